// Secret payloads on the Assignments stream are sealed end to end, inside TLS, with a key chain
// that moves forward with every payload.
//
// Why, when TLS already protects the wire: every copy the transport makes (OpenSSL's record
// buffers, nghttp2's and Node's HTTP/2 chunks, grpc-js's message buffers, the decoded message)
// lives in memory that neither end can zero, and lingers after a version is revoked. Sealed, those
// copies hold only ciphertext. Each payload has its own key, taken from a one-way chain; the key
// and the chain link before it are zeroed as soon as the payload is sealed or opened, and the ECDH
// private keys that started the chain are overwritten once it is agreed. So a revoked value cannot
// be recovered from a node's memory later, even with the ciphertext that lingers there.
//
// Both ends walk the chain in stream order: the manager seals the payloads of a message in the order
// they are in it, the agent opens them in that order (parts are reassembled first, agent/parts.ts).
import { createCipheriv, createDecipheriv, createECDH, createHmac, randomBytes, type ECDH } from 'node:crypto';

/** NIST P-256: Node's ECDH object can overwrite its private key in place (X25519 KeyObjects cannot be freed on demand). */
const CURVE = 'prime256v1';
/** An uncompressed P-256 point. */
export const SEAL_PUBLIC_KEY_BYTES = 65;
/**
 * ChaCha20-Poly1305 (RFC 8439) from OpenSSL: ten times the speed of a JS implementation here (a 71 MB
 * COMPLETE is sealed and opened in a fraction of a second, not seconds that would miss heartbeats).
 * Each key seals one payload, so the nonce need not be unique; it is random anyway.
 */
const CIPHER = 'chacha20-poly1305';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** What a sealed payload adds to its plaintext. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;
const CHAIN_LABEL = Buffer.from('hush assignments seal v1');

export class SealError extends Error {}

/** One end's ephemeral key for one stream. */
export class SealHandshake {
  private readonly ecdh: ECDH = createECDH(CURVE);
  readonly publicKey: Buffer;

  constructor() {
    this.publicKey = this.ecdh.generateKeys();
  }

  /**
   * The chain shared with the other end, whose public key is `peer`. `agentKey` and `managerKey` are
   * both ends' public keys (one of them this end's), which bind the chain to this exchange. This end's
   * private key is overwritten: it can agree once. Throws SealError for a key that is not a P-256 point.
   */
  agree(peer: Uint8Array, agentKey: Uint8Array, managerKey: Uint8Array): SealChain {
    if (peer.length !== SEAL_PUBLIC_KEY_BYTES) throw new SealError(`a seal public key has ${SEAL_PUBLIC_KEY_BYTES} bytes, not ${peer.length}`);
    let shared: Buffer;
    try {
      shared = this.ecdh.computeSecret(peer);
    } catch {
      throw new SealError('the seal public key is not a point on P-256');
    } finally {
      this.ecdh.generateKeys(); // overwrites the private key (OpenSSL regenerates it in place)
    }
    // HKDF-Extract (RFC 5869) with both public keys as the salt.
    const chain = createHmac('sha256', Buffer.concat([agentKey, managerKey])).update(shared).update(CHAIN_LABEL).digest();
    shared.fill(0);
    return new SealChain(chain);
  }
}

/** The key chain of one stream: one key per payload, in order. */
export class SealChain {
  constructor(private link: Buffer) {}

  /** nonce ‖ ciphertext ‖ tag of `plain` under the next key, bound to `aad` (the version it is). */
  seal(plain: Uint8Array, aad: string): Buffer {
    const key = this.next();
    const nonce = randomBytes(NONCE_BYTES);
    try {
      const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES }).setAAD(Buffer.from(aad), { plaintextLength: plain.length });
      const body = cipher.update(plain);
      const last = cipher.final(); // frees (and cleanses) OpenSSL's context, the key with it
      return Buffer.concat([nonce, body, last, cipher.getAuthTag()]);
    } finally {
      key.fill(0);
    }
  }

  /**
   * The plaintext of the next payload, in a buffer of its own (outside Node's shared pool) that the
   * caller zeroes when done. Throws SealError if it was not sealed with the next key for `aad`.
   */
  open(sealed: Uint8Array, aad: string): Buffer {
    if (sealed.length < SEAL_OVERHEAD) throw new SealError('a sealed payload is shorter than its nonce and tag');
    const key = this.next();
    let plain: Buffer | undefined;
    try {
      const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES })
        .setAAD(Buffer.from(aad), { plaintextLength: sealed.length - SEAL_OVERHEAD }).setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      // OpenSSL writes the plaintext straight into the one buffer update() returns (its own memory,
      // not Node's shared pool); it is released only if the tag checks.
      plain = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
      if (decipher.final().length !== 0) throw new Error('unexpected trailing plaintext');
      return plain;
    } catch {
      plain?.fill(0);
      throw new SealError(`the sealed payload of ${aad} does not open with this stream's next key`);
    } finally {
      key.fill(0);
    }
  }

  /** Zeroes the chain (the stream ended). */
  wipe(): void {
    this.link.fill(0);
  }

  /** HKDF-Expand by one step: this payload's key and the next link; the link before is zeroed. */
  private next(): Buffer {
    if (this.link.every((b) => b === 0)) throw new SealError('the seal chain was wiped');
    const key = createHmac('sha256', this.link).update(Buffer.from([1])).digest();
    const link = createHmac('sha256', this.link).update(Buffer.from([2])).digest();
    this.link.fill(0);
    this.link = link;
    return key;
  }
}
