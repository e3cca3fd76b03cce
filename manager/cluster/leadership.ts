// Who leads the scheduler (orchestrator, node liveness of nodes nobody holds, compaction, deny-list
// pruning) when several managers share one store.
//
// On the embedded SQLite store one process owns the store: it leads from the start to the end.
// On etcd every manager campaigns (etcd-election.ts); the one elected leads until its lease is no
// longer proven alive by its own clock, then campaigns again. Every leader write goes through
// leaderStore(), which fences it with the current term's campaign key: a deposed leader (paused,
// partitioned) that resumes cannot write, even before it has noticed.
import type { Logger } from '../../common/log.js';
import { FencedError, type Compare, type Op, type Store, type TxnOptions, type TxnResult } from '../store/store.js';
import type { EtcdStore } from '../store/etcd.js';
import { campaign, type Candidate } from '../store/etcd-election.js';

export interface Leadership {
  /** True while this manager leads (for etcd: checked against the local clock at each call). */
  leading(): boolean;
  /** The current term's fence; undefined when not leading, or when there is no one to fence out. */
  fence(): TxnOptions['fence'];
  /** Calls `listener(true)` when a term starts, `listener(false)` when it ends. */
  onChange(listener: (leading: boolean) => void): () => void;
  /** Ends the campaign (resigns if leading) so a successor leads at once. */
  close(): Promise<void>;
}

/** The sole manager of an embedded store: it always leads, and nothing needs fencing. */
export function soleLeadership(): Leadership {
  let closed = false;
  return {
    leading: () => !closed,
    fence: () => undefined,
    onChange(listener) {
      if (!closed) queueMicrotask(() => { if (!closed) listener(true); });
      return () => undefined;
    },
    async close() { closed = true; },
  };
}

export interface EtcdLeadershipOptions {
  /** The store's etcd prefix. */
  prefix: string;
  managerId: string;
  /** Lease TTL in seconds (default 8: see manager.ts). */
  ttlSec: number;
  log: Logger;
}

/** Campaigns for the scheduler on etcd, term after term, until closed. */
export class EtcdLeadership implements Leadership {
  private candidate?: Candidate;
  private isLeading = false;
  private closed = false;
  private retry?: NodeJS.Timeout;
  private readonly listeners = new Set<(leading: boolean) => void>();

  constructor(private readonly store: EtcdStore, private readonly opts: EtcdLeadershipOptions) {
    void this.run();
  }

  leading(): boolean {
    if (this.isLeading && !this.candidate?.leading()) this.set(false); // the local clock said so first
    return this.isLeading;
  }

  fence(): TxnOptions['fence'] {
    return this.leading() ? this.candidate : undefined;
  }

  onChange(listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener);
    // Elected before this listener came (the campaign starts with the constructor): it hears so too.
    if (this.isLeading) queueMicrotask(() => { if (this.isLeading && this.listeners.has(listener)) listener(true); });
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.set(false);
    await this.candidate?.close();
  }

  private set(leading: boolean): void {
    if (this.isLeading === leading) return;
    this.isLeading = leading;
    if (leading) this.opts.log.info({ managerId: this.opts.managerId }, 'leading the scheduler');
    else if (!this.closed) this.opts.log.warn({ managerId: this.opts.managerId }, 'no longer leading the scheduler');
    for (const l of [...this.listeners]) l(leading);
  }

  /** One term: campaign, wait to be elected, lead until lost; then again after a short pause. */
  private async run(): Promise<void> {
    if (this.closed) return;
    let lost!: () => void;
    const ended = new Promise<void>((resolve) => (lost = resolve));
    try {
      this.candidate = await campaign(this.store.client, {
        prefix: this.opts.prefix, name: 'hush-sched', value: this.opts.managerId, ttlSec: this.opts.ttlSec,
        // One process per manager id: a key with this id is a previous process's (killed), not to wait for.
        replacesSameValue: true,
        onLost: (reason) => {
          if (!this.closed) this.opts.log.warn({ reason }, 'scheduler campaign ended');
          this.set(false);
          lost();
        },
      });
      if (this.closed) return void (await this.candidate.close());
      await this.candidate.elected;
      if (this.candidate.leading()) this.set(true);
      await ended;
    } catch (e) {
      if (!this.closed) this.opts.log.warn({ err: (e as Error).message }, 'cannot campaign for the scheduler (retrying)');
    }
    if (this.closed) return;
    this.retry = setTimeout(() => void this.run(), 500 + Math.random() * 500);
    this.retry.unref();
  }
}

/**
 * The store as the leader writes it: each txn is fenced by the current term, and refused with a
 * FencedError, without being sent, when this manager does not lead.
 */
export function leaderStore(store: Store, leadership: Leadership): Store {
  return {
    get: (key) => store.get(key),
    range: (prefix) => store.range(prefix),
    getBlob: (id) => store.getBlob(id),
    revision: () => store.revision(),
    watch: (from, onChanges, onError, onProgress) => store.watch(from, onChanges, onError, onProgress),
    close: () => store.close(),
    txn(compares: Compare[], ops: Op[]): Promise<TxnResult> {
      if (!leadership.leading()) return Promise.reject(new FencedError());
      return store.txn(compares, ops, { fence: leadership.fence() });
    },
  };
}
