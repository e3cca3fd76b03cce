// What only the scheduler's leader does: place tasks (the orchestrator), judge nodes that no
// manager holds (Liveness, told through `leading`), prune the deny list, compact etcd's history,
// and record itself as leader. Each term gets a fresh orchestrator over the fenced store, so a deposed leader's last
// pass cannot land.
//
// The leader record (/leader, what `hush manager ls` shows) follows the terms: written at a term's
// start (again until it lands, the write fenced by that term), and deleted at its end if it is still
// this term's record (compared by its revision; not fenced, as nobody leads then). A term lost while
// etcd had no quorum thus does not leave a record naming a manager that no longer leads.
import { FencedError, type Store } from '../store/store.js';
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
/** Between tries to write or delete the leader record while the store does not answer. */
const RECORD_RETRY_MS = 500;

export class LeaderDuties {
  /** The store as the leader writes it (fenced by the current term). */
  readonly store: Store;
  readonly nodes: NodeRegistry;
  private orchestrator?: OrchestratorLoop;
  private pruneTimer?: NodeJS.Timeout;
  private compactTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  /** Counts term starts and ends: a retry of the record stops once the term it was for has changed. */
  private turn = 0;
  /** The store revision of this manager's leader record, while it may still be there. */
  private recordRev = 0;
  /** The record writes and deletes, one after another. */
  private recordChain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly rawStore: Store, private readonly view: ClusterView, private readonly leadership: Leadership,
    private readonly managerId: string, private readonly log: Logger,
    /** etcd: compacts the shared history (etcd-compaction.ts); none for the embedded store. */
    private readonly compactor?: Compactor, private readonly compactEveryMs = COMPACTION_INTERVAL_MS) {
    this.store = leaderStore(rawStore, leadership);
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
    this.stopped = true; // the record's delete is tried once more, not retried
  }

  private begin(): void {
    this.end();
    const turn = ++this.turn;
    const record: LeaderRecord = { managerId: this.managerId, sinceMs: Date.now() };
    this.onRecord(turn, 'cannot record this manager as the scheduler\'s leader', async () => {
      this.recordRev = (await this.store.txn([], [{ type: 'put', key: keys.leader, value: encode(record) }])).revision;
    });
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
    const turn = ++this.turn;
    this.onRecord(turn, 'cannot delete this manager\'s leader record', async () => {
      const rev = this.recordRev;
      if (!rev) return;
      // Only this term's record: a successor's is newer, and stays.
      await this.rawStore.txn([{ key: keys.leader, modRev: rev }], [{ type: 'delete', key: keys.leader }]);
      this.recordRev = 0;
    });
  }

  /** Runs `op` after the record's previous ops, again every RECORD_RETRY_MS while it fails and `turn` is current. */
  private onRecord(turn: number, failure: string, op: () => Promise<void>): void {
    this.recordChain = this.recordChain.then(async () => {
      for (let logged = false; turn === this.turn; ) {
        try {
          return await op();
        } catch (err) {
          if (err instanceof FencedError || this.stopped || turn !== this.turn) return;
          if (!logged) this.log.warn({ err: (err as Error).message }, `${failure} (retrying)`);
          logged = true;
          await new Promise<void>((resolve) => setTimeout(resolve, RECORD_RETRY_MS).unref());
        }
      }
    });
  }

  private pruneDenyList(): void {
    new NodeAdmin(this.store, this.view, this.nodes).pruneDenied(Date.now()).then(
      (n) => { if (n) this.log.info({ pruned: n }, 'expired certificates dropped from the deny list'); },
      (err: Error) => this.log.warn({ err: err.message }, 'cannot prune the deny list'),
    );
  }
}
