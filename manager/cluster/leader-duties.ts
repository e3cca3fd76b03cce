// What only the scheduler's leader does: place tasks (the orchestrator), judge nodes that no
// manager holds (Liveness, told through `leading`), prune the deny list, compact etcd's history,
// and record itself as leader. Each term gets a fresh orchestrator over the fenced store, so a deposed leader's last
// pass cannot land.
import type { Store } from '../store/store.js';
import type { ClusterView } from '../state/view.js';
import type { Logger } from '../../common/log.js';
import { encode, keys, type LeaderRecord } from '../state/records.js';
import { OrchestratorLoop } from '../orchestrator/loop.js';
import { NodeAdmin } from '../nodes/admin.js';
import { NodeRegistry } from '../nodes/registry.js';
import { leaderStore, type Leadership } from './leadership.js';
import { COMPACTION_INTERVAL_MS, type Compactor } from '../store/etcd-compaction.js';

/** How often expired certificates are dropped from the deny list. */
const DENY_LIST_PRUNE_MS = 60 * 60_000;

export class LeaderDuties {
  /** The store as the leader writes it (fenced by the current term). */
  readonly store: Store;
  readonly nodes: NodeRegistry;
  private orchestrator?: OrchestratorLoop;
  private pruneTimer?: NodeJS.Timeout;
  private compactTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(store: Store, private readonly view: ClusterView, private readonly leadership: Leadership,
    private readonly managerId: string, private readonly log: Logger,
    /** etcd: compacts the shared history (etcd-compaction.ts); none for the embedded store. */
    private readonly compactor?: Compactor, private readonly compactEveryMs = COMPACTION_INTERVAL_MS) {
    this.store = leaderStore(store, leadership);
    this.nodes = new NodeRegistry(this.store);
  }

  start(): void {
    this.unsubscribe = this.leadership.onChange((leading) => (leading ? this.begin() : this.end()));
  }

  /** Resolves once this manager's orchestrator has placed tasks for the view as it is (at once when not leading). */
  settled(): Promise<void> {
    return this.orchestrator?.settled() ?? Promise.resolve();
  }

  stop(): void {
    this.unsubscribe?.();
    this.end();
  }

  private begin(): void {
    this.end();
    const record: LeaderRecord = { managerId: this.managerId, sinceMs: Date.now() };
    this.store.txn([], [{ type: 'put', key: keys.leader, value: encode(record) }]).catch((err: Error) =>
      this.log.warn({ err: err.message }, 'cannot record this manager as the scheduler\'s leader'));
    this.orchestrator = new OrchestratorLoop(this.store, this.view, this.log);
    this.orchestrator.start();
    this.pruneDenyList();
    this.pruneTimer = setInterval(() => this.pruneDenyList(), DENY_LIST_PRUNE_MS);
    this.pruneTimer.unref();
    if (this.compactor) {
      this.compactTimer = setInterval(() => this.compact(), this.compactEveryMs);
      this.compactTimer.unref();
      this.compact(); // the term's first round only records where the next one compacts
    }
  }

  private compact(): void {
    this.compactor?.round(this.leadership.fence()).then(
      (rev) => { if (rev !== undefined) this.log.info({ etcdRevision: rev }, 'etcd history compacted'); },
      (err: Error) => this.log.warn({ err: err.message }, 'cannot compact the etcd history'),
    );
  }

  private end(): void {
    this.orchestrator?.stop();
    this.orchestrator = undefined;
    clearInterval(this.pruneTimer);
    clearInterval(this.compactTimer);
  }

  private pruneDenyList(): void {
    new NodeAdmin(this.store, this.view, this.nodes).pruneDenied(Date.now()).then(
      (n) => { if (n) this.log.info({ pruned: n }, 'expired certificates dropped from the deny list'); },
      (err: Error) => this.log.warn({ err: err.message }, 'cannot prune the deny list'),
    );
  }
}
