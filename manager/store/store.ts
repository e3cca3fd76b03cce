// The manager's storage interface: a revisioned key space with a change feed, shaped like etcd's
// so that another backend (etcd) can be put behind it without changing anything above it.
//
// Model:
//  - The store has a single revision counter. Every committed txn that carries at least one op
//    (puts, deletes and blob ops alike, even a delete of an absent key or a blob-only txn) bumps
//    it by exactly one; a txn with no ops, or whose compares fail, writes nothing and keeps it.
//  - Keys are non-empty, well-formed Unicode strings of at most 1024 UTF-8 bytes, ordered by their
//    UTF-8 bytes (as etcd). Values are opaque Buffers.
//  - Blobs are immutable payloads addressed by id, written and deleted atomically with key ops in
//    a txn but invisible to range() and watch().
//  - A watcher sees every key change (not blob ops) with a revision above the one it asked for.

/** One key's current state. */
export interface KV {
  /** The key. */
  key: string;
  /** The opaque value. */
  value: Buffer;
  /** Revision of the txn that created the key (reset when the key is deleted and put again). */
  createRev: number;
  /** Revision of the txn that last put the key. */
  modRev: number;
}

/** A txn precondition on one key: modRev 0 means "the key must be absent" (create-if-absent);
 *  otherwise the key must exist and its current modRev must equal it. */
export interface Compare {
  /** The key to check. */
  key: string;
  /** Expected modRev, or 0 for "absent". */
  modRev: number;
}

/** One write in a txn. Within a txn a key and a blob id may each appear in at most one op. */
export type Op =
  /** Create or overwrite a key. */
  | { type: 'put'; key: string; value: Buffer }
  /** Delete a key; deleting an absent key is a no-op (and emits no change). */
  | { type: 'delete'; key: string }
  /** Store an immutable payload (e.g. sealed ciphertext up to ~512 KB) outside the watched key
   *  space; the txn is rejected with an error if the id already exists. */
  | { type: 'putBlob'; id: string; data: Buffer }
  /** Delete a payload; deleting an absent id is a no-op. */
  | { type: 'deleteBlob'; id: string };

/** The outcome of a txn. */
export interface TxnResult {
  /** false: a compare failed and nothing was written. */
  ok: boolean;
  /** ok: the revision this txn committed at (or the current one if it had no ops); !ok: the current revision. */
  revision: number;
}

/** One key change in the feed. */
export interface Change {
  /** Revision of the txn that made the change. */
  revision: number;
  /** The key changed. */
  key: string;
  /** The new value, or null when the key was deleted. */
  value: Buffer | null;
}

/** What fences a leader's write: its campaign key and that key's create revision (etcd-election.ts). */
export interface Fence { readonly key: Buffer; readonly createRevision: number }

export interface TxnOptions {
  /** The txn applies only while this campaign key lives at its create revision, else it rejects with a
   *  FencedError (writing nothing). A backend only one manager can open (SQLite) has no one to fence
   *  out and ignores it. */
  fence?: Fence;
}

/** A fenced txn refused because the campaign key is gone or was created again: its leader is deposed. */
export class FencedError extends Error {
  constructor() {
    super('fenced write refused: this manager no longer leads the scheduler');
    this.name = 'FencedError';
  }
}

/** A revisioned key space with a change feed. All methods reject once close() has been called. */
export interface Store {
  /** The key's current state, or undefined if absent. */
  get(key: string): Promise<KV | undefined>;
  /** Every key starting with prefix ('' = all), sorted by key, from one consistent snapshot taken at `revision`. */
  range(prefix: string): Promise<{ kvs: KV[]; revision: number }>;
  /** All-or-nothing: if every compare holds, apply all ops as one revision; resolves only once durable.
   *  Rejects (writing nothing) on invalid arguments or a putBlob of an existing id, and with a
   *  DiskFullError when the disk is full (reads go on working; a later txn succeeds once space
   *  is freed). The Buffers
   *  passed in must not be modified until the returned promise settles. */
  txn(compares: Compare[], ops: Op[], opts?: TxnOptions): Promise<TxnResult>;
  /** A blob's data, or undefined if absent. */
  getBlob(id: string): Promise<Buffer | undefined>;
  /** The current (last committed) revision; 0 for an empty store. */
  revision(): Promise<number>;
  /** Delivers every change with revision > fromRevision, in revision order, then live ones as they
   *  commit: no gaps, no duplicates, never a revision split across two calls, never an empty call,
   *  and the first call only after watch() has returned. If fromRevision is older than the retained
   *  history, onError gets a CompactedError (asynchronously; without onError watch() throws it) and
   *  the watch ends. An exception thrown by onChanges also ends the watch and goes to onError (is
   *  rethrown, uncaught, without one). Delivered Buffers may be shared between watchers: read-only.
   *  Returns a function that cancels the watch (idempotent); nothing is delivered after it is called.
   *  onProgress, if given, is told the store's revision after the changes up to it were delivered,
   *  including revisions that changed no key (blob-only txns), so a follower can tell it is current. */
  watch(fromRevision: number, onChanges: (changes: Change[]) => void, onError?: (e: Error) => void,
    onProgress?: (revision: number) => void): () => void;
  /** Commits txns already submitted, ends all watches silently, and releases the store. Idempotent. */
  close(): Promise<void>;
}

export { DiskFullError } from '../../common/disk-full.js';

/** A txn over the backend's limits (etcd's request size or op count): refused before it is sent, nothing written. */
export class TxnTooLargeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'TxnTooLargeError';
  }
}

/** A write whose outcome could not be learned (etcd unreachable): it may have committed. */
export class OutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutcomeUnknownError';
  }
}

/** The requested revision's history has been pruned; re-read with range() and watch from its revision. */
export class CompactedError extends Error {
  /**
   * @param requested the fromRevision the caller asked for
   * @param compactRevision the oldest fromRevision that can still be watched
   */
  constructor(readonly requested: number, readonly compactRevision: number) {
    super(`store history compacted: cannot watch from revision ${requested}, oldest available is ${compactRevision}`);
    this.name = 'CompactedError';
  }
}
