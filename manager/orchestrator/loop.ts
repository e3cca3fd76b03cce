// Runs reconcile() whenever services, tasks or nodes change, and commits its
// task changes as one transaction. Changes already queued are coalesced into one
// pass (setImmediate), with no fixed debounce.
//
// A pass reconciles only the services that changed or whose tasks changed, so its cost follows
// the change, not the cluster's size. Anything that can concern every service (a node changed, a
// pass that failed, the start) makes the next pass a whole one.
//
// A full disk fails every commit until space is freed: the loop then retries on a backoff timer
// (1 s doubling to 30 s; view changes meanwhile wait for it) and logs once per episode.
import type { Store, Compare, Op } from '../store/store.js';
import type { ClusterView, ViewChange } from '../state/view.js';
import { encode, keys, type TaskRecord } from '../state/records.js';
import type { Logger } from '../../common/log.js';
import { newId } from '../../common/ids.js';
import { DiskFullError } from '../../common/disk-full.js';
import { reconcile, refusedService, type ReconcileInput } from './reconcile.js';

const DISK_FULL_RETRY_FIRST_MS = 1000;
/** Tasks per txn: at most 2 compares and 1 op each, under etcd's 128 per txn with room for the store's own. */
export const TASKS_PER_TXN = 60;
const DISK_FULL_RETRY_MAX_MS = 30_000;

export class OrchestratorLoop {
  private scheduled = false;
  private running = false;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private idleWaiters: Array<() => void> = [];
  /** The next pass reconciles every service (else only `dirty`). */
  private whole = true;
  /** Services changed, or with tasks changed, since the last pass started. */
  private dirty = new Set<string>();
  /** Set while the disk is full: the delay before the next retry. */
  private diskFullRetryMs = 0;
  private retryTimer?: NodeJS.Timeout;
  /** Services already logged as refused (refusedService): each is logged once per manager run. */
  private refusedLogged = new Set<string>();

  constructor(private readonly store: Store, private readonly view: ClusterView, private readonly log: Logger) {}

  start(): void {
    this.unsubscribe = this.view.onChange((changes) => {
      if (this.mark(changes)) this.kick();
    });
    this.kick(); // resume after a restart: whatever the store holds is reconciled at once
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.unsubscribe?.();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Resolves once no pass is running or queued. Every relevant view change kicks a pass
   * synchronously, so after this the view as it was when called has been reconciled.
   */
  settled(): Promise<void> {
    if (this.stopped || this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Records what the changes touch; true if a pass is needed. */
  private mark(changes: ViewChange[]): boolean {
    let relevant = false;
    for (const c of changes) {
      if (c.kind === 'node') this.whole = true;
      else if (c.kind === 'service') this.dirty.add(c.id);
      else if (c.kind === 'task') {
        if (c.before) this.dirty.add(c.before.serviceId);
        if (c.after) this.dirty.add(c.after.serviceId);
      } else continue;
      relevant = true;
    }
    return relevant;
  }

  /** The reconcile input for this pass: the whole view, or the dirty services and their tasks. */
  private input(): ReconcileInput {
    const { whole, dirty } = this;
    this.whole = false;
    this.dirty = new Set();
    const now = Date.now();
    if (whole) return { services: this.view.services, tasks: this.view.tasks, nodes: this.view.nodes, now, newId };
    return scopedInput(this.view, dirty, now, newId);
  }

  /** Logs, once each, the services of this pass that are never placed (names only, no values). */
  private logRefused(input: ReconcileInput): void {
    const ids = input.scope ? input.scope.services : input.services.keys();
    for (const id of ids) {
      const service = input.services.get(id);
      if (!service || this.refusedLogged.has(id)) continue;
      const why = refusedService(service);
      if (!why) continue;
      this.refusedLogged.add(id);
      this.log.error({ serviceId: id, service: service.name }, why);
    }
  }

  private isIdle(): boolean {
    // A pass waiting out a full disk does not count: nodes connecting meanwhile get what is stored.
    return !this.running && !this.scheduled;
  }

  kick(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pass();
    });
  }

  private async pass(): Promise<void> {
    this.running = true;
    let failed = false;
    try {
      const input = this.input();
      this.logRefused(input);
      const { put, delete: del } = reconcile(input);
      if (put.length === 0 && del.length === 0) return;
      // One txn when it fits under etcd's limit of 128 compares and 128 ops per txn (--max-txn-ops);
      // else deletions, then placements, in txns of TASKS_PER_TXN tasks, each whole on its own (a
      // placed task carries its service's compare).
      const dels = del.filter((id) => this.view.modRev(keys.task(id)) !== 0);
      const batches: Array<{ put: TaskRecord[]; del: string[] }> = put.length + dels.length <= TASKS_PER_TXN
        ? [{ put, del: dels }]
        : [...chunks(dels).map((d) => ({ put: [], del: d })), ...chunks(put).map((p) => ({ put: p, del: [] }))];
      let committed = 0;
      for (const batch of batches) {
        const compares: Compare[] = [];
        const ops: Op[] = [];
        // Placing a task needs its service to be as seen: a service removed meanwhile fails
        // the txn, and the next pass deletes what is left of it instead.
        for (const serviceId of new Set(batch.put.map((t) => t.serviceId))) {
          compares.push({ key: keys.service(serviceId), modRev: this.view.modRev(keys.service(serviceId)) });
        }
        for (const t of batch.put) {
          compares.push({ key: keys.task(t.id), modRev: this.view.modRev(keys.task(t.id)) });
          ops.push({ type: 'put', key: keys.task(t.id), value: encode(t) });
        }
        for (const id of batch.del) {
          compares.push({ key: keys.task(id), modRev: this.view.modRev(keys.task(id)) });
          ops.push({ type: 'delete', key: keys.task(id) });
        }
        if (!ops.length) continue;
        if (!(await this.commit(compares, ops))) return;
        committed += ops.length;
      }
      if (committed) this.log.debug({ put: put.length, deleted: dels.length }, 'tasks reconciled');
    } catch (err) {
      failed = true;
      this.whole = true;
      if (err instanceof DiskFullError) this.retryLater();
      else this.log.error({ err: (err as Error).message }, 'reconcile failed');
    } finally {
      if (!failed && this.diskFullRetryMs) {
        this.diskFullRetryMs = 0;
        this.log.info('the disk has space again: tasks are reconciled');
      }
      this.running = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
      if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Commits one txn and lets the view catch up; false (and a whole pass again) if a compare failed. */
  private async commit(compares: Compare[], ops: Op[]): Promise<boolean> {
    const result = await this.store.txn(compares, ops);
    // Let the view catch up first, so the next pass does not recompute from stale state.
    await this.view.waitFor(result.revision);
    if (result.ok) return true;
    // Something changed meanwhile: reconcile again, wholly (the scope may have grown).
    this.whole = true;
    this.again = true;
    return false;
  }

  /** The commit failed on a full disk: one log line per episode, then retries, slower and slower. */
  private retryLater(): void {
    if (this.diskFullRetryMs === 0) {
      this.log.error("the manager's disk is full: task changes wait until space is freed (retrying)");
      this.diskFullRetryMs = DISK_FULL_RETRY_FIRST_MS;
    } else this.diskFullRetryMs = Math.min(this.diskFullRetryMs * 2, DISK_FULL_RETRY_MAX_MS);
    this.again = false; // the timer runs the next pass
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.diskFullRetryMs);
    this.retryTimer.unref();
  }
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += TASKS_PER_TXN) out.push(items.slice(i, i + TASKS_PER_TXN));
  return out;
}

/** reconcile()'s input for `dirty` services only: their tasks, and every other task counted on its node. */
export function scopedInput(
  view: Pick<ClusterView, 'services' | 'nodes' | 'tasksByNode' | 'tasksOfService'>,
  dirty: ReadonlySet<string>, now: number, makeId: () => string,
): ReconcileInput {
  const tasks = new Map<string, TaskRecord>();
  const loadOutside = new Map<string, number>();
  for (const [nodeId, ids] of view.tasksByNode) loadOutside.set(nodeId, ids.size);
  for (const serviceId of dirty) {
    for (const task of view.tasksOfService(serviceId)) {
      tasks.set(task.id, task);
      if (task.nodeId) loadOutside.set(task.nodeId, loadOutside.get(task.nodeId)! - 1);
    }
  }
  return { services: view.services, tasks, nodes: view.nodes, now, newId: makeId, scope: { services: dirty, loadOutside } };
}
