// How the payloads of one Assignments stream are opened: with the key chain agreed with the
// manager (common/session-seal.ts), or — a manager too old to seal, which sent no key in its first
// part — taken from the clear `data` field (then they travelled in TLS only).
import { SealHandshake, type SealChain } from '../common/session-seal.js';
import { versionKey } from '../common/version-key.js';
import type { AssignedSecret__Output } from '../proto/gen/hush/v1/AssignedSecret.js';
import type { AssignmentsMessage__Output } from '../proto/gen/hush/v1/AssignmentsMessage.js';

export class StreamPayloads {
  private readonly handshake = new SealHandshake();
  private chain?: SealChain;
  /** Whether the stream's first part was seen (it carries the manager's key, if any). */
  private started = false;
  private wiped = false;

  /** The agent's public key, sent in the AssignmentsRequest. */
  get publicKey(): Buffer {
    return this.handshake.publicKey;
  }

  /**
   * Call with every part, in order, before reassembly: the first one settles how payloads travel
   * (returned for the first part only). Throws on a key that is not valid or not in the first part.
   */
  onPart(part: AssignmentsMessage__Output): 'sealed' | 'unsealed' | undefined {
    if (this.started) {
      if (part.sealPublicKey?.length) throw new Error('the manager sent a seal key after the first part of the stream');
      return undefined;
    }
    this.started = true;
    if (!part.sealPublicKey?.length) return 'unsealed';
    this.chain = this.handshake.agree(part.sealPublicKey, this.handshake.publicKey, part.sealPublicKey);
    return 'sealed';
  }

  /** The plaintext of one delivered version, in a buffer of the agent's own (see PayloadOpener). */
  open(s: AssignedSecret__Output): Buffer {
    if (this.wiped) throw new Error('the stream has ended');
    if (this.chain) {
      if (!s.sealed?.length) throw new Error(`the manager sent ${versionKey(s.id, s.version)} unsealed on a sealed stream`);
      return this.chain.open(s.sealed, versionKey(s.id, s.version));
    }
    if (s.sealed?.length) throw new Error(`the manager sent ${versionKey(s.id, s.version)} sealed without a seal key`);
    // An older manager: copy out of the decoded message and zero the original.
    const copy = Buffer.allocUnsafeSlow(s.data.length);
    s.data.copy(copy);
    s.data.fill(0);
    return copy;
  }

  /** The stream ended: the chain is zeroed. */
  wipe(): void {
    this.wiped = true;
    this.chain?.wipe();
  }
}
