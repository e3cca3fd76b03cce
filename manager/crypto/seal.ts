// Sealing: XSalsa20-Poly1305 (NaCl secretbox) under a 32-byte key, a fresh random
// 24-byte nonce per seal. Each blob is bound to a context (for a secret version:
// its id and version) by sealing under a subkey derived from the key and that
// context, so a ciphertext copied onto another record fails authentication.
import { createHmac, randomBytes } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const FORMAT_V1 = 1;

export class SealError extends Error {
  constructor() {
    super('cannot open sealed data: wrong key, tampered data, or data bound to another record');
  }
}

/** The context that binds a sealed secret payload to its record. */
export function secretVersionContext(secretId: string, version: number): string {
  return `secret/${secretId}/${version}`;
}

function subkey(key: Uint8Array, context: string): Buffer {
  if (key.length !== KEY_BYTES) throw new Error(`sealing key must be ${KEY_BYTES} bytes`);
  return createHmac('sha256', key).update('hush-seal-v1\0').update(context).digest();
}

/** Layout: format byte (1) || nonce (24) || ciphertext with Poly1305 tag. */
export function seal(key: Uint8Array, context: string, plaintext: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const k = subkey(key, context);
  try {
    const box = xsalsa20poly1305(k, nonce).encrypt(plaintext);
    return Buffer.concat([Buffer.of(FORMAT_V1), nonce, box]);
  } finally {
    k.fill(0);
  }
}

export function open(key: Uint8Array, context: string, sealed: Uint8Array): Buffer {
  if (sealed.length < 1 + NONCE_BYTES + 16 || sealed[0] !== FORMAT_V1) throw new SealError();
  const k = subkey(key, context);
  try {
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const plain = xsalsa20poly1305(k, nonce).decrypt(sealed.subarray(1 + NONCE_BYTES));
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch {
    throw new SealError();
  } finally {
    k.fill(0);
  }
}
