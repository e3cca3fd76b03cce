// Which manager holds each node's stream, in the store (/sessions/<nodeId>): written when a node's
// first stream to this manager opens and deleted when its last one ends, so the scheduler's leader
// knows a node is served elsewhere. One write per connect and per disconnect, none per heartbeat.
// A manager that dies leaves its records behind; the leader treats them as stale once that manager
// stops answering (Liveness), and the next holder overwrites them.
import type { Store } from '../store/store.js';
import type { Logger } from '../../common/log.js';
import { encode, keys, type SessionRecord } from '../state/records.js';

export class SessionRecords {
  /** Writes in flight per node, chained so that an open and its close land in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** The modRev of the record this manager last wrote for each node it holds. */
  private readonly mine = new Map<string, number>();

  constructor(private readonly store: Store, private readonly managerId: string, private readonly log: Logger) {}

  opened(nodeId: string): void {
    this.then(nodeId, async () => {
      const record: SessionRecord = { nodeId, managerId: this.managerId, sinceMs: Date.now() };
      const r = await this.store.txn([], [{ type: 'put', key: keys.session(nodeId), value: encode(record) }]);
      this.mine.set(nodeId, r.revision);
    });
  }

  closed(nodeId: string): void {
    this.then(nodeId, async () => {
      const modRev = this.mine.get(nodeId);
      this.mine.delete(nodeId);
      // Only our own record: the node may already be held by another manager.
      if (modRev) await this.store.txn([{ key: keys.session(nodeId), modRev }], [{ type: 'delete', key: keys.session(nodeId) }]);
    });
  }

  private then(nodeId: string, write: () => Promise<void>): void {
    const next = (this.chains.get(nodeId) ?? Promise.resolve()).then(write).catch((err: Error) => {
      this.log.warn({ nodeId, err: err.message }, 'cannot record which manager holds the node\'s stream');
    });
    this.chains.set(nodeId, next);
    void next.finally(() => { if (this.chains.get(nodeId) === next) this.chains.delete(nodeId); });
  }
}
