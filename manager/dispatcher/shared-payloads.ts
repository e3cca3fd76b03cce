// Sessions flushed for one change share one read (and decryption) of each payload, and the
// plaintext is zeroed as soon as the last of them has sealed it: each reader takes a lease and
// releases it when done; a read is shared for one turn of the event loop.
import { versionKey } from '../../common/version-key.js';

export type PayloadReader = (secretId: string, version: number) => Promise<Buffer>;

export interface PayloadLease {
  readonly data: Buffer;
  /** Done with the plaintext: the last release (after the sharing turn) zeroes it. */
  release(): void;
}

interface Entry {
  read: Promise<Buffer>;
  /** The plaintext once read. */
  data?: Buffer;
  users: number;
  /** No longer handed to new readers. */
  closed: boolean;
}

export class SharedPayloads {
  private readonly reading = new Map<string, Entry>();

  constructor(private readonly readPayload: PayloadReader) {}

  async lease(id: string, version: number): Promise<PayloadLease> {
    const key = versionKey(id, version);
    let entry = this.reading.get(key);
    if (!entry) {
      const e: Entry = { read: this.readPayload(id, version), users: 0, closed: false };
      e.read.then((b) => { e.data = b; this.zeroIfDone(e); }, () => undefined);
      entry = e;
      this.reading.set(key, e);
      setImmediate(() => this.close(key, e));
      // A failed read is not shared with a retry (see Session.flush).
      e.read.catch(() => this.close(key, e));
    }
    entry.users++;
    let data: Buffer;
    try {
      data = await entry.read;
    } catch (err) {
      entry.users--;
      throw err;
    }
    const e = entry;
    let released = false;
    return {
      data,
      release: () => {
        if (released) return;
        released = true;
        e.users--;
        this.zeroIfDone(e);
      },
    };
  }

  private close(key: string, e: Entry): void {
    if (this.reading.get(key) === e) this.reading.delete(key);
    e.closed = true;
    this.zeroIfDone(e);
  }

  private zeroIfDone(e: Entry): void {
    if (e.closed && e.users === 0) e.data?.fill(0); // not read yet: zeroed when it is (see lease)
  }
}
