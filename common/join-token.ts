// Join tokens, Swarm-style: HUSH-1-<root cert digest>-<secret>. The digest lets a joining node
// pin the root CA before trusting anything the manager sends; the secret authorises the join.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument } from './errors.js';

// sha256 (256 bits) needs 50 base36 digits; 128 bits need 25.
const TOKEN_PATTERN = /^HUSH-1-([0-9a-z]{50})-([0-9a-z]{25})$/;

const base36 = (hex: string, width: number) => BigInt('0x' + hex).toString(36).padStart(width, '0');

export function caDigest(certDer: Buffer): string {
  return base36(createHash('sha256').update(certDer).digest('hex'), 50);
}

export function newJoinToken(certDer: Buffer): string {
  return `HUSH-1-${caDigest(certDer)}-${base36(randomBytes(16).toString('hex'), 25)}`;
}

export function parseJoinToken(token: string): { caDigest: string; secret: string } {
  const m = typeof token === 'string' ? TOKEN_PATTERN.exec(token) : null;
  if (!m) throw invalidArgument('invalid join token format');
  return { caDigest: m[1], secret: m[2] };
}

// Constant time whatever the inputs: hashing first gives equal-length buffers, so neither the
// length nor the position of the first difference shows in the timing.
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  // An unset (empty) expected token must never match, not even an empty presented one.
  return timingSafeEqual(a, b) && expected.length > 0;
}
