// etcd implementation of Store (see store.ts), over the thin client in etcd-rpc.ts; layout and
// encodings in etcd-layout.ts, watches in etcd-watch.ts.
//
// txn(): txns of one Store are committed one after another, in submission order. Each is a read
// (one etcd txn: the counter, the compared and written keys, the blobs to create, from one snapshot)
// then a write guarded by the counter's mod_revision (any other writer to the store moves it, so the
// read is still current), which puts the counter and applies the ops as one etcd revision; a lost
// race re-reads. A write whose outcome is unknown (deadline, member down) is resolved before it is
// reported: the counter names the op that committed each revision, re-read until it is known.
//
// Durability is etcd's: a txn has resolved once a quorum has it on disk.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { DiskFullError } from '../../common/disk-full.js';
import { CompactedError, FencedError, OutcomeUnknownError, TxnTooLargeError, type Change, type Compare, type Fence, type KV, type Op, type Store, type TxnOptions, type TxnResult } from './store.js';
import { checkKey, checkWatchFrom, validateTxn, type CheckedTxn } from './txn-rules.js';
import { Watcher } from './watcher.js';
import { EtcdClient, etcdMessage, type EtcdConnection, type RequestOp, type TxnRequest, type TxnResponse, type KeyValue, type RangeRequest } from './etcd-rpc.js';
import { bytesPrefixEnd, decodeCounter, decodeValue, encodeCounter, encodeValue, layout, RevisionMap, type Layout } from './etcd-layout.js';
import { EtcdWatch } from './etcd-watch.js';
import { fenceCompares } from './etcd-election.js';

/** etcd's default --max-request-bytes (1.5 MiB). */
export const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** How long an unknown outcome is looked for before the txn is reported as unknown: with etcd's
 *  quorum lost a write must fail within seconds (not hang), saying it may have committed. */
const RESOLVE_BUDGET_MS = 3000;

export interface EtcdStoreOptions extends EtcdConnection {
  /** Key prefix of the store's data (default /hush). */
  prefix?: string;
  /** The members' --max-request-bytes (default 1.5 MiB): a larger txn is refused before it is sent. */
  maxRequestBytes?: number;
  /** If set, the store compacts etcd (cluster-wide) to keep about this many of its revisions. */
  historyLimit?: number;
  /** The members' --max-txn-ops (default 128): a txn with more ops (+1, the counter) is refused before it is sent. */
  maxTxnOps?: number;
}

/** Opens the store under opts.prefix; rejects with a one-line error if etcd does not answer. */
export async function openEtcdStore(opts: EtcdStoreOptions): Promise<EtcdStore> {
  const s = new EtcdStore(opts);
  try {
    await s.revision();
  } catch (e) {
    await s.close();
    throw new Error(`etcd store: cannot reach etcd at ${opts.endpoints.join(',')}: ${etcdMessage(e)}`);
  }
  return s;
}

// Errors after which the request certainly did not apply; any other may have committed.
const DEFINITE = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION, grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.OUT_OF_RANGE, grpc.status.PERMISSION_DENIED, grpc.status.UNAUTHENTICATED, grpc.status.UNIMPLEMENTED]);

/** How far one watch() has been fed, and who waits for it. */
interface Feed { rev: number; wake: Set<() => void> }

const isNoSpace = (e: unknown) => /database space exceeded/.test(etcdMessage(e));

export class EtcdStore implements Store {
  readonly client: EtcdClient;
  /** The key prefix of the store (etcd-layout.ts). */
  readonly prefix: string;
  private readonly l: Layout;
  private readonly maxRequestBytes: number;
  private readonly historyLimit: number | undefined;
  private readonly maxTxnOps: number;
  private readonly revs = new RevisionMap();
  private compactRev = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly watches = new Set<EtcdWatch>();
  private readonly watchers = new Set<Watcher>();
  private readonly feeds = new Map<Watcher, Feed>();
  /** How many writes had an unknown outcome (deadline, member down) that had to be resolved. */
  unknownOutcomes = 0;
  /** Test hook: called before each write is sent (to provoke an unknown outcome). */
  beforeWrite?: (req: TxnRequest) => Promise<void> | void;

  constructor(opts: EtcdStoreOptions) {
    this.client = new EtcdClient(opts);
    this.prefix = (opts.prefix ?? '/hush').replace(/\/+$/, '');
    this.l = layout(this.prefix);
    this.maxRequestBytes = opts.maxRequestBytes ?? ETCD_MAX_REQUEST_BYTES;
    this.historyLimit = opts.historyLimit;
    this.maxTxnOps = opts.maxTxnOps ?? 128;
  }

  private k(key: string): Buffer {
    return Buffer.concat([this.l.keyPrefix, Buffer.from(key, 'utf8')]);
  }

  private b(id: string): Buffer {
    return Buffer.concat([this.l.blobPrefix, Buffer.from(id, 'utf8')]);
  }

  private toKV(kv: KeyValue): KV {
    const v = decodeValue(kv.value);
    return { key: kv.key.subarray(this.l.keyPrefix.length).toString('utf8'), value: v.value, createRev: v.createRev, modRev: v.modRev };
  }

  async get(key: string): Promise<KV | undefined> {
    this.assertOpen();
    checkKey(key, 'key');
    const r = await this.read(() => this.client.range({ key: this.k(key) }));
    return r.kvs[0] && this.toKV(r.kvs[0]);
  }

  async range(prefix: string): Promise<{ kvs: KV[]; revision: number }> {
    this.assertOpen();
    if (prefix !== '') checkKey(prefix, 'prefix');
    const start = this.k(prefix);
    const r = await this.read(() => this.client.txn({
      compare: [],
      success: [{ requestRange: { key: this.l.counter } }, { requestRange: { key: start, rangeEnd: bytesPrefixEnd(start) } }],
      failure: [],
    }));
    const rev = decodeCounter(r.responses[0].responseRange!.kvs[0]?.value).rev;
    this.revs.add(rev, r.header.revision);
    return { kvs: r.responses[1].responseRange!.kvs.map((kv) => this.toKV(kv)), revision: rev };
  }

  async getBlob(id: string): Promise<Buffer | undefined> {
    this.assertOpen();
    checkKey(id, 'blob id');
    const r = await this.read(() => this.client.range({ key: this.b(id) }));
    return r.kvs[0]?.value;
  }

  async revision(): Promise<number> {
    this.assertOpen();
    const r = await this.read(() => this.client.range({ key: this.l.counter }));
    const rev = decodeCounter(r.kvs[0]?.value).rev;
    this.revs.add(rev, r.header.revision);
    return rev;
  }

  /** With `fence` (a leader's campaign key), the write applies only while that key lives, else
   *  FencedError and nothing written. */
  async txn(compares: Compare[], ops: Op[], opts: TxnOptions = {}): Promise<TxnResult> {
    this.assertOpen();
    const checked = validateTxn(compares, ops);
    const p = this.chain.then(() => this.commit(checked, opts.fence));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async commit(t: CheckedTxn, fence?: Fence): Promise<TxnResult> {
    const opId = randomBytes(9).toString('base64url');
    for (;;) {
      // Read what the txn depends on, from one snapshot.
      const puts = t.ops.filter((o) => o.type === 'put');
      const newBlobs = t.ops.filter((o) => o.type === 'putBlob');
      const reads: RequestOp[] = [{ requestRange: { key: this.l.counter } }];
      for (const c of t.compares) reads.push({ requestRange: { key: this.k(c.key) } });
      for (const o of puts) reads.push({ requestRange: { key: this.k(o.key) } });
      for (const o of newBlobs) reads.push({ requestRange: { key: this.b(o.id), countOnly: true } });
      const snap = await this.read(() => this.readSnapshot(reads));
      const counterKv = snap.responses[0].responseRange!.kvs[0];
      const rev = decodeCounter(counterKv?.value).rev;
      this.revs.add(rev, snap.header.revision);
      let i = 1;
      for (const c of t.compares) {
        const kv = snap.responses[i++].responseRange!.kvs[0];
        if ((kv ? decodeValue(kv.value).modRev : 0) !== c.modRev) return { ok: false, revision: rev };
      }
      const createRevs = puts.map(() => {
        const kv = snap.responses[i++].responseRange!.kvs[0];
        return kv ? decodeValue(kv.value).createRev : rev + 1;
      });
      for (const o of newBlobs) {
        if (snap.responses[i++].responseRange!.count > 0) throw new Error(`blob ${o.id} already exists`);
      }
      if (t.ops.length === 0) return { ok: true, revision: rev };

      // Write, guarded by the counter.
      const next = rev + 1;
      const writes: RequestOp[] = [{ requestPut: { key: this.l.counter, value: encodeCounter(next, opId) } }];
      let p = 0;
      for (const o of t.ops) {
        if (o.type === 'put') writes.push({ requestPut: { key: this.k(o.key), value: encodeValue(createRevs[p++], next, o.value) } });
        else if (o.type === 'delete') writes.push({ requestDeleteRange: { key: this.k(o.key) } });
        else if (o.type === 'putBlob') writes.push({ requestPut: { key: this.b(o.id), value: o.data } });
        else writes.push({ requestDeleteRange: { key: this.b(o.id) } });
      }
      const guard: TxnRequest['compare'] = counterKv
        ? [{ result: 'EQUAL', target: 'MOD', key: this.l.counter, modRevision: counterKv.modRevision }]
        : [{ result: 'EQUAL', target: 'CREATE', key: this.l.counter, createRevision: 0 }];
      const req: TxnRequest = {
        compare: fence ? fenceCompares(guard, fence.key, fence.createRevision) : guard,
        success: writes,
        // The counter, and the fence's key (a failure may be the fence's: then no retry can apply).
        failure: [{ requestRange: { key: this.l.counter } }, ...(fence ? [{ requestRange: { key: fence.key, keysOnly: true } }] : [])],
      };
      if (writes.length > this.maxTxnOps) {
        throw new TxnTooLargeError(`etcd store: this txn has ${t.ops.length} ops, over etcd's limit of ${this.maxTxnOps - 1} (--max-txn-ops, less the revision counter); nothing was written`);
      }
      const size = this.client.txnSize(req);
      if (size > this.maxRequestBytes) {
        throw new TxnTooLargeError(`etcd store: this txn is ${size} bytes, over etcd's request limit of ${this.maxRequestBytes} bytes (--max-request-bytes); nothing was written`);
      }
      let committedAt: number | undefined;
      try {
        await this.beforeWrite?.(req);
        const r = await this.client.txn(req);
        if (r.succeeded) committedAt = r.header.revision;
        else if (fenceBroken(r, fence)) throw new FencedError();
      } catch (e) {
        if (e instanceof FencedError) throw e;
        const code = (e as grpc.ServiceError).code;
        if (isNoSpace(e)) committedAt = await this.appliedDespiteNoSpace(counterKv?.modRevision ?? 0, next, opId);
        else if (DEFINITE.has(code)) throw new Error(`etcd store: txn refused: ${etcdMessage(e)}`);
        else committedAt = await this.resolveUnknown(req, counterKv?.modRevision ?? 0, next, opId, e, fence);
      }
      if (committedAt === undefined) continue; // another writer moved the counter, or ours did not apply: read again
      this.revs.add(next, committedAt);
      this.maybeCompact(next);
      await this.watchesFed(next);
      return { ok: true, revision: next };
    }
  }

  // A read, again while etcd answers UNAVAILABLE ("leader changed", a member going down) for up to
  // one deadline more; any other error, and a passed deadline, are the caller's.
  private async read<T>(fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.client.deadlineMs;
    for (let delay = 50; ; delay = Math.min(400, delay * 2)) {
      try {
        return await fn();
      } catch (e) {
        if ((e as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || Date.now() + delay > until) throw e;
        await new Promise((res) => setTimeout(res, delay));
      }
    }
  }

  // The reads, from one snapshot: in etcd txns of at most maxTxnOps reads, the later ones at the
  // first one's revision.
  private async readSnapshot(reads: RequestOp[]): Promise<{ header: { revision: number }; responses: TxnResponse['responses'] }> {
    const first = await this.client.txn({ compare: [], success: reads.slice(0, this.maxTxnOps), failure: [] });
    const at = first.header.revision;
    for (let i = this.maxTxnOps; i < reads.length; i += this.maxTxnOps) {
      const chunk = reads.slice(i, i + this.maxTxnOps).map((r) => ({ requestRange: { ...(r as { requestRange: RangeRequest }).requestRange, revision: at } }));
      first.responses.push(...(await this.client.txn({ compare: [], success: chunk, failure: [] })).responses);
    }
    return first;
  }

  // After a write whose outcome is unknown: the etcd revision it committed at, or undefined if it
  // did not (then the caller reads again and retries). A read cannot tell: a proposal still in the
  // leader's log commits after a read that did not see it. So the same write is sent again, with the
  // same guard: if it applies, the first did not; if its guard fails, the counter moved, and its
  // value at store revision `next` names the op that took it. Either way nothing can apply later.
  private async resolveUnknown(req: TxnRequest, guardMod: number, next: number, opId: string, cause: unknown, fence?: Fence): Promise<number | undefined> {
    this.unknownOutcomes++;
    const deadline = Date.now() + RESOLVE_BUDGET_MS;
    for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
      try {
        const r = await this.client.txn(req);
        if (r.succeeded) return r.header.revision;
        const at = await this.committedBy(r.responses[0].responseRange!.kvs[0], guardMod, next, opId);
        if (at === undefined && fenceBroken(r, fence)) throw new FencedError(); // neither attempt applied
        return at;
      } catch (e) {
        if (e instanceof FencedError) throw e;
        if (isNoSpace(e)) return this.appliedDespiteNoSpace(guardMod, next, opId);
        if (DEFINITE.has((e as grpc.ServiceError).code)) throw new Error(`etcd store: txn refused: ${etcdMessage(e)}`);
        if (Date.now() + delay > deadline) {
          throw new OutcomeUnknownError(`etcd store: the write's outcome is unknown (etcd unreachable: ${etcdMessage(cause)}); it may have committed: check before retrying`);
        }
        await new Promise((res) => setTimeout(res, delay));
      }
    }
  }

  // With the counter moved past guardMod to `kv`: the etcd revision our op committed at, if it took `next`.
  private async committedBy(kv: KeyValue | undefined, guardMod: number, next: number, opId: string): Promise<number | undefined> {
    if (!kv || kv.modRevision === guardMod) return undefined;
    const atNext = decodeCounter(kv.value).rev === next ? kv : await this.counterAtStoreRev(guardMod, kv.modRevision, next);
    return atNext && decodeCounter(atNext.value).opId === opId ? atNext.modRevision : undefined;
  }

  // etcd's "database space exceeded" does not mean "not written": its applier applies a txn that
  // crosses the quota, then answers NOSPACE and raises the alarm (etcd 3.4 apply.go quotaApplierV3).
  // Once the alarm is up no write applies, so a read tells: our op committed, or DiskFullError.
  private async appliedDespiteNoSpace(guardMod: number, next: number, opId: string): Promise<number> {
    const kv = (await this.read(() => this.client.range({ key: this.l.counter }))).kvs[0];
    const at = await this.committedBy(kv, guardMod, next, opId);
    if (at === undefined) throw new DiskFullError();
    return at;
  }

  // The counter's state at store revision `want`, which committed at an etcd revision in (lo, hi]:
  // the first etcd revision there at which the counter is at `want` or above.
  private async counterAtStoreRev(lo: number, hi: number, want: number): Promise<KeyValue | undefined> {
    const at = async (rev: number) => (await this.client.range({ key: this.l.counter, revision: rev })).kvs[0];
    let a = lo + 1;
    let b = hi;
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      if (decodeCounter((await at(mid))?.value).rev >= want) b = mid;
      else a = mid + 1;
    }
    const kv = await at(a);
    return kv && decodeCounter(kv.value).rev === want ? kv : undefined;
  }

  // historyLimit: compact etcd at an etcd revision where the store was about historyLimit revisions ago.
  private maybeCompact(rev: number): void {
    const limit = this.historyLimit;
    if (limit === undefined) return;
    const every = Math.max(1, Math.min(1000, Math.floor(limit / 10)));
    if (rev - this.compactRev < limit + every) return;
    const pair = this.revs.atOrBelow(rev - limit);
    if (!pair || pair[0] <= this.compactRev) return;
    this.compactRev = pair[0];
    this.client.compact(pair[1]).catch(() => undefined); // a later compaction covers a failed one
  }

  watch(fromRevision: number, onChanges: (changes: Change[]) => void, onError?: (e: Error) => void,
    onProgress?: (revision: number) => void): () => void {
    this.assertOpen();
    checkWatchFrom(fromRevision);
    let ew: EtcdWatch | undefined;
    const feed: Feed = { rev: fromRevision, wake: new Set() };
    const w = new Watcher((x) => {
      this.watchers.delete(x);
      this.feeds.delete(x);
      for (const f of feed.wake) f();
      if (ew) {
        ew.stop();
        this.watches.delete(ew);
      }
    }, fromRevision, onChanges, onError, onProgress);
    if (fromRevision < this.compactRev) {
      const e = new CompactedError(fromRevision, this.compactRev);
      if (!onError) throw e;
      w.fail(e);
      return () => w.cancel();
    }
    this.watchers.add(w);
    this.feeds.set(w, feed);
    this.startAt(fromRevision).then((start) => {
      if (w.done || this.closed) return;
      ew = new EtcdWatch(this.client, this.l, w, fromRevision, start, (r) => this.storeRevAt(r), (rev) => {
        feed.rev = rev;
        for (const f of feed.wake) f();
      });
      this.watches.add(ew);
    }, (e) => w.fail(new Error(`etcd store: cannot start watch: ${etcdMessage(e)}`)));
    return () => w.cancel();
  }

  // Before a txn resolves, this store's own watches have been fed its revision (as SQLite's are when
  // its txn resolves): a caller that writes then looks at what it watches sees its write. A watch that
  // is cut off does not hold writes back for longer than one deadline.
  private async watchesFed(rev: number): Promise<void> {
    const behind = [...this.feeds].filter(([, f]) => f.rev < rev);
    if (behind.length === 0) return;
    await new Promise<void>((resolve) => {
      const checks = new Map<Feed, () => void>();
      const done = () => {
        clearTimeout(timer);
        for (const [f, c] of checks) f.wake.delete(c);
        resolve();
      };
      const timer = setTimeout(done, this.client.deadlineMs);
      let left = behind.length;
      for (const [w, f] of behind) {
        const check = () => {
          if (f.rev < rev && this.feeds.has(w)) return;
          f.wake.delete(check);
          checks.delete(f);
          if (--left === 0) done();
        };
        checks.set(f, check);
        f.wake.add(check);
      }
    });
  }

  // An etcd revision from which watching yields every change above store revision `from`.
  private async startAt(from: number): Promise<number> {
    const known = this.revs.atOrBelow(from);
    if (known) return known[1] + 1;
    const r = await this.read(() => this.client.range({ key: this.l.counter }));
    return r.kvs[0] ? r.kvs[0].createRevision : r.header.revision + 1;
  }

  private async storeRevAt(etcdRev: number): Promise<number> {
    return decodeCounter((await this.client.range({ key: this.l.counter, revision: etcdRev })).kvs[0]?.value).rev;
  }

  /** Test hook: the etcd watches behind this store's watch() calls. */
  get etcdWatches(): EtcdWatch[] {
    return [...this.watches];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    for (const w of this.watchers) w.done = true;
    this.watchers.clear();
    this.feeds.clear();
    for (const ew of this.watches) ew.stop();
    this.watches.clear();
    this.client.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}

/** Whether a failed txn's fence key (its failure's second read) is gone or was created again. */
function fenceBroken(r: TxnResponse, fence: Fence | undefined): boolean {
  return !!fence && r.responses[1]?.responseRange?.kvs[0]?.createRevision !== fence.createRevision;
}
