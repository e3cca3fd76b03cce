// Join tokens as a joining node sees them, computed here independently of the product code:
// HUSH-1-<sha256 of the root certificate's DER, base36, 50 digits>-<secret, base36, 25 digits>.
import { createHash } from 'node:crypto';

export const JOIN_TOKEN = /^HUSH-1-([0-9a-z]{50})-([0-9a-z]{25})$/;

export function parseToken(token: string): { caDigest: string; secret: string } {
  const m = JOIN_TOKEN.exec(token);
  if (!m) throw new Error(`not a join token: ${JSON.stringify(token)}`);
  return { caDigest: m[1], secret: m[2] };
}

/** The digest a join token pins: sha256 of the root certificate (DER), base36, zero-padded to 50. */
export function rootDigest(certDer: Buffer): string {
  return BigInt('0x' + createHash('sha256').update(certDer).digest('hex')).toString(36).padStart(50, '0');
}
