// A private key's PKCS#8 PEM as a Buffer that the caller can zero, for the TLS stack (which takes
// PEM only). KeyObject.export({ format: 'pem' }) returns a JS string, which can never be wiped, so
// the base64 is written into the Buffer here from the DER bytes (zeroed in turn).
import type { KeyObject } from 'node:crypto';

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const HEAD = '-----BEGIN PRIVATE KEY-----\n';
const TAIL = '-----END PRIVATE KEY-----\n';
const LINE = 64; // base64 characters per PEM line (RFC 7468)

export function privateKeyPem(key: KeyObject): Buffer {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  try {
    const chars = 4 * Math.ceil(der.length / 3);
    const out = Buffer.alloc(HEAD.length + chars + Math.ceil(chars / LINE) + TAIL.length);
    let o = out.write(HEAD, 0, 'latin1');
    let column = 0;
    for (let i = 0; i < der.length; i += 3) {
      const left = der.length - i;
      const n = (der[i] << 16) | ((left > 1 ? der[i + 1] : 0) << 8) | (left > 2 ? der[i + 2] : 0);
      out[o++] = ALPHABET[(n >> 18) & 63];
      out[o++] = ALPHABET[(n >> 12) & 63];
      out[o++] = left > 1 ? ALPHABET[(n >> 6) & 63] : 0x3d; // '='
      out[o++] = left > 2 ? ALPHABET[n & 63] : 0x3d;
      column += 4;
      if (column === LINE) {
        out[o++] = 0x0a;
        column = 0;
      }
    }
    if (column) out[o++] = 0x0a;
    out.write(TAIL, o, 'latin1');
    return out;
  } finally {
    der.fill(0);
  }
}
