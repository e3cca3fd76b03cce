// Leader election on etcd with fencing, for the managers' scheduler (etcd-ha.md, "Scheduler leader").
//
//   P/election/<name>/<leaseId>   one key per candidate, under its own lease; the candidate whose key
//                                 has the lowest create revision leads, and that revision is its
//                                 fencing token: every leader txn carries Create(key) == token, so
//                                 once the key is gone (lease expired, resigned) its writes are refused
//
// Written for defects 4 and 5 of the `etcd3` client: a candidate steps down by its own clock, not the
// server's word. Each keepalive request's send time is noted; an answer proves the lease lives until
// send time + TTL, so once no answer has come for TTL minus a margin the candidate declares itself
// no longer leading at once and never uses the lease again. It reports leading only after a txn that
// saw its key still at its create revision with no older key left (never after the key is gone).
import * as grpc from '@grpc/grpc-js';
import { bytesPrefixEnd } from './etcd-layout.js';
import type { Compare, EtcdClient, TxnRequest, TxnResponse } from './etcd-rpc.js';
import { FencedError, type Fence } from './store.js';

export { FencedError, type Fence };

export interface CampaignOptions {
  /** The store's prefix P. */
  prefix: string;
  /** The election's name (e.g. "hush-sched"). */
  name: string;
  /** What the candidate publishes in its key (e.g. its manager id). */
  value: Buffer | string;
  /** Lease TTL in seconds (default 5; etcd raises it to its minimum, about 1.5 s). */
  ttlSec?: number;
  /** How long before the lease's proven end the candidate steps down, in ms (default TTL/3). */
  marginMs?: number;
  /** Called once when the candidate stops leading or stops campaigning (lease lost, resigned, closed). */
  onLost?: (reason: string) => void;
  /**
   * The value names one candidate at a time (a manager's id): a campaign key with the same value is
   * an earlier life of this candidate (a process that died, e.g. kill -9), and its lease is revoked
   * before campaigning. Left alone it would hold the election for its TTL, and longer if etcd's
   * leader changes meanwhile (each new raft leader extends every lease by its TTL).
   */
  replacesSameValue?: boolean;
}

export interface Candidate extends Fence {
  /** P/election/<name>/<leaseId>. */
  readonly key: Buffer;
  readonly leaseId: string;
  /** The campaign key's create revision: the fencing token. */
  readonly createRevision: number;
  /** Resolves with the fencing token once leading; rejects if the campaign ends first. */
  readonly elected: Promise<number>;
  /** True only while elected and the lease is proven alive by the local clock (checked on each call). */
  leading(): boolean;
  /** `compares` plus Create(key) == createRevision: a txn with them applies only while the key lives. */
  fence(compares: Compare[]): Compare[];
  /** A txn fenced by this candidate's key. */
  fencedTxn(req: TxnRequest): Promise<TxnResponse>;
  /** Steps down (or stops waiting): deletes the key and revokes the lease, so a successor leads at once. */
  resign(): Promise<void>;
  /** resign(), best effort, and ends every stream and timer: nothing of the campaign keeps the process alive. */
  close(): Promise<void>;
}

/** How long the lease of a campaign that ended is still revoked, while etcd does not answer. */
const REVOKE_RETRY_MS = 60_000;
/** EtcdClient's error once it is closed. */
const CLIENT_CLOSED = 'etcd client is closed';

/**
 * Revokes a lease this candidate no longer uses, again and again until etcd says it is gone. Once is
 * not enough when etcd has no quorum (every candidate steps down then, and its one revoke fails): a
 * new raft leader extends every lease by its TTL, so the abandoned leases would keep their campaign
 * keys, and the successors waiting behind them, for another TTL after the quorum is back.
 */
function revokeUntilGone(client: EtcdClient, leaseId: string): void {
  const until = Date.now() + REVOKE_RETRY_MS;
  const attempt = (delayMs: number): void => {
    client.leaseRevoke(leaseId).catch((e: grpc.ServiceError) => {
      // NOT_FOUND: expired or revoked already; a closed client: the process is shutting down.
      if (e.code === grpc.status.NOT_FOUND || e.message === CLIENT_CLOSED || Date.now() + delayMs > until) return;
      setTimeout(() => attempt(Math.min(2000, delayMs * 2)), delayMs).unref();
    });
  };
  attempt(200);
}

/** `compares` plus the fence of a campaign key created at `createRevision`. */
export function fenceCompares(compares: Compare[], key: Buffer, createRevision: number): Compare[] {
  return [...compares, { result: 'EQUAL', target: 'CREATE', key, createRevision }];
}

export function electionPrefix(prefix: string, name: string): Buffer {
  return Buffer.from(`${prefix.replace(/\/+$/, '')}/election/${name}/`);
}

/** Joins the election: grants a lease, creates the campaign key under it, keeps the lease alive. */
export async function campaign(client: EtcdClient, opts: CampaignOptions): Promise<Candidate> {
  const ttlSec = opts.ttlSec ?? 5;
  if (opts.replacesSameValue) await revokeEarlierLives(client, electionPrefix(opts.prefix, opts.name), Buffer.from(opts.value));
  const granted = Date.now(); // before the grant was asked: no later than the lease's real start
  const lease = await client.leaseGrant(ttlSec);
  const ttlMs = lease.ttl * 1000;
  const marginMs = opts.marginMs ?? ttlMs / 3;
  const pfx = electionPrefix(opts.prefix, opts.name);
  const key = Buffer.concat([pfx, Buffer.from(BigInt(lease.id).toString(16))]);
  let put: TxnResponse;
  try {
    put = await client.txn({
      compare: [{ result: 'EQUAL', target: 'CREATE', key, createRevision: 0 }],
      success: [{ requestPut: { key, value: Buffer.from(opts.value), lease: lease.id } }],
      failure: [],
    });
    if (!put.succeeded) throw new Error('etcd election: campaign key already exists');
  } catch (e) {
    // The put's outcome may be unknown: a key that did land must not outlive this failed campaign.
    revokeUntilGone(client, lease.id);
    throw e;
  }
  return new Campaign(client, opts, key, pfx, lease.id, put.header.revision, ttlMs, marginMs, granted);
}

/** Revokes the lease of every campaign key under `pfx` holding `value` (the key's last part is its lease id, in hex). */
async function revokeEarlierLives(client: EtcdClient, pfx: Buffer, value: Buffer): Promise<void> {
  const { kvs } = await client.range({ key: pfx, rangeEnd: bytesPrefixEnd(pfx) });
  for (const kv of kvs) {
    const hex = kv.key.subarray(pfx.length).toString();
    if (!kv.value.equals(value) || !/^[0-9a-f]{1,16}$/.test(hex)) continue;
    await client.leaseRevoke(BigInt(`0x${hex}`).toString()).catch((e: grpc.ServiceError) => {
      if (e.code !== grpc.status.NOT_FOUND) throw e;
    });
  }
}

class Campaign implements Candidate {
  readonly elected: Promise<number>;
  private resolveElected!: (rev: number) => void;
  private rejectElected!: (e: Error) => void;
  private isElected = false;
  private ended = false;
  /** Until when (local clock) the lease is proven alive, less the margin. */
  private validUntil: number;
  private readonly sent: number[] = []; // send times of unanswered keepalive requests, in order
  private keepAlive: { send(): void; cancel(): void } | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private watch: { cancel(): void } | undefined;
  private wake: (() => void) | undefined; // ends the current wait for a predecessor

  constructor(private readonly client: EtcdClient, private readonly opts: CampaignOptions, readonly key: Buffer,
    private readonly pfx: Buffer, readonly leaseId: string, readonly createRevision: number,
    private readonly ttlMs: number, private readonly marginMs: number, granted: number) {
    this.elected = new Promise<number>((resolve, reject) => {
      this.resolveElected = resolve;
      this.rejectElected = reject;
    });
    this.elected.catch(() => undefined); // a caller that only watches leading() need not await it
    this.validUntil = granted + ttlMs - marginMs;
    this.armExpiry();
    this.openKeepAlive();
    this.keepAliveTimer = setInterval(() => this.sendKeepAlive(), Math.max(100, ttlMs / 3));
    void this.waitForTurn();
  }

  leading(): boolean {
    this.checkExpiry();
    return this.isElected && !this.ended;
  }

  fence(compares: Compare[]): Compare[] {
    return fenceCompares(compares, this.key, this.createRevision);
  }

  fencedTxn(req: TxnRequest): Promise<TxnResponse> {
    return this.client.txn({ ...req, compare: this.fence(req.compare) });
  }

  async resign(): Promise<void> {
    if (this.ended) return;
    this.end('resigned');
    // The key first, so the successor's watch fires even if the revoke is slow; both bounded by the deadline.
    await this.client.txn({ compare: [], success: [{ requestDeleteRange: { key: this.key } }], failure: [] })
      .catch(() => undefined);
    await this.client.leaseRevoke(this.leaseId).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.resign();
  }

  // --- lease keepalive and local expiry -------------------------------------------------------

  private openKeepAlive(): void {
    if (this.ended) return;
    this.sent.length = 0;
    this.keepAlive = this.client.leaseKeepAlive(this.leaseId, (ttl) => this.onKeepAlive(ttl), (e) => {
      this.keepAlive = undefined;
      if (this.ended || e === null) return;
      // The stream broke (member down, leader change): open another shortly; the expiry timer
      // decides whether the lease is still ours meanwhile.
      this.reopenTimer = setTimeout(() => this.openKeepAlive(), 200);
    });
    this.sendKeepAlive();
  }

  private sendKeepAlive(): void {
    if (this.ended || !this.keepAlive) return;
    this.checkExpiry();
    if (this.ended) return;
    this.sent.push(Date.now());
    this.keepAlive.send();
  }

  private onKeepAlive(ttlSec: number): void {
    const sentAt = this.sent.shift();
    if (this.ended) return;
    this.checkExpiry(); // an answer arriving after the local expiry resurrects nothing
    if (this.ended) return;
    if (ttlSec <= 0) return this.lose('lease expired (keepalive answered TTL 0)');
    if (sentAt === undefined) return;
    this.validUntil = Math.max(this.validUntil, sentAt + ttlSec * 1000 - this.marginMs);
    this.armExpiry();
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.checkExpiry(), Math.max(0, this.validUntil - Date.now()));
  }

  /** Synchronous: a process resumed after a pause sees the expiry before acting on anything else. */
  private checkExpiry(): void {
    if (!this.ended && Date.now() >= this.validUntil) {
      this.lose(`no keepalive answer for ${this.ttlMs - this.marginMs} ms`);
    }
  }

  private lose(reason: string): void {
    if (this.ended) return;
    this.end(reason);
    // Stop using the lease; a revoke is harmless if it already expired.
    revokeUntilGone(this.client, this.leaseId);
  }

  private end(reason: string): void {
    this.ended = true;
    this.isElected = false;
    clearInterval(this.keepAliveTimer);
    clearTimeout(this.expiryTimer);
    clearTimeout(this.reopenTimer);
    this.keepAlive?.cancel();
    this.keepAlive = undefined;
    this.watch?.cancel();
    this.watch = undefined;
    this.wake?.();
    this.rejectElected(new Error(`etcd election: ${reason}`));
    this.opts.onLost?.(reason);
  }

  // --- waiting for the turn -----------------------------------------------------------------------

  /** Until no older key is left: find the newest key older than ours, wait for its deletion, repeat. */
  private async waitForTurn(): Promise<void> {
    while (!this.ended) {
      let r: TxnResponse;
      try {
        // One txn: our key still at its create revision (defect 5) and the predecessor, at one revision.
        r = await this.client.txn({
          compare: this.fence([]),
          success: [{
            requestRange: {
              key: this.pfx, rangeEnd: bytesPrefixEnd(this.pfx), maxCreateRevision: this.createRevision - 1,
              sortOrder: 2, sortTarget: 2, limit: 1, keysOnly: true,
            },
          }],
          failure: [],
        });
      } catch {
        if (this.ended) return;
        await new Promise<void>((res) => {
          this.wake = res;
          this.reopenTimer = setTimeout(res, 200);
        });
        continue;
      }
      if (this.ended) return;
      if (!r.succeeded) return this.lose('campaign key is gone');
      const pred = r.responses[0]?.responseRange?.kvs[0];
      if (!pred) {
        this.checkExpiry();
        if (this.ended) return;
        this.isElected = true;
        this.resolveElected(this.createRevision);
        return this.watchOwnKey(r.header.revision + 1);
      }
      await this.waitDeleted(pred.key, r.header.revision + 1);
    }
  }

  /** While leading: the key deleted under a live lease (by hand, or a lease revoked by a deposed raft
   *  leader) ends the leadership too. Each time the watch breaks, one txn checks the key again. */
  private async watchOwnKey(fromRev: number): Promise<void> {
    while (!this.ended) {
      await this.waitDeleted(this.key, fromRev);
      for (;;) {
        if (this.ended) return;
        try {
          const r = await this.client.txn({ compare: this.fence([]), success: [], failure: [] });
          if (!r.succeeded) return this.lose('campaign key is gone');
          fromRev = r.header.revision + 1;
          break;
        } catch {
          await new Promise<void>((res) => {
            this.wake = res;
            this.reopenTimer = setTimeout(res, 200);
          });
        }
      }
    }
  }

  /** Resolves when `key` is deleted at or after `fromRev`, or when the watch ends (the caller re-reads). */
  private waitDeleted(key: Buffer, fromRev: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.watch?.cancel();
        this.watch = undefined;
        resolve();
      };
      this.wake = done;
      this.watch = this.client.watch({ key, rangeEnd: Buffer.alloc(0), startRevision: fromRev }, (res) => {
        if (res.canceled || res.events.some((e) => e.type === 'DELETE')) done();
      }, () => {
        this.watch = undefined;
        resolve();
      });
      if (this.ended) done();
    });
  }
}
