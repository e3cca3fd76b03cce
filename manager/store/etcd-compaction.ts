// Compaction of etcd's history, by one manager at a time (etcd-ha.md, as Kubernetes'
// etcd3/compact.go): each round bumps P/compact with a compare on its version; the manager that
// wins that CAS compacts etcd at the revision of its own previous winning round. So the history
// kept is one interval's worth (about 5 minutes), and a watch that fell further behind relists. Only the scheduler's leader runs
// them (leader-duties.ts), fenced like any leader write; the CAS keeps two from racing anyway.
import type { EtcdStore } from './etcd.js';
import type { Fence } from './store.js';
import { fenceCompares } from './etcd-election.js';

export const COMPACTION_INTERVAL_MS = 5 * 60_000;

export class Compactor {
  /** The etcd revision of this manager's last winning round: the next round compacts there. */
  private last?: number;

  constructor(private readonly store: EtcdStore) {}

  /** One round; resolves with the etcd revision compacted at, or undefined (a first round, or another manager won). */
  async round(fence?: Fence): Promise<number | undefined> {
    const key = Buffer.from(`${this.store.prefix}/compact`);
    const client = this.store.client;
    const seen = (await client.range({ key })).kvs[0];
    const guard = [{ result: 'EQUAL' as const, target: 'VERSION' as const, key, version: seen ? seen.version : 0 }];
    const r = await client.txn({
      compare: fence ? fenceCompares(guard, fence.key, fence.createRevision) : guard,
      success: [{ requestPut: { key, value: Buffer.alloc(0) } }],
      failure: [],
    });
    const previous = this.last;
    this.last = r.succeeded ? r.header.revision : undefined;
    if (!r.succeeded || previous === undefined) return undefined;
    await client.compact(previous);
    return previous;
  }
}
