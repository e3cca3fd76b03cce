// Runs reconcile() whenever services, tasks or nodes change, and commits its
// task changes as one transaction. Changes already queued are coalesced into one
// pass (setImmediate), with no fixed debounce.
import type { Store, Compare, Op } from '../store/store.js';
import type { ClusterView } from '../state/view.js';
import { encode, keys } from '../state/records.js';
import type { Logger } from '../../common/log.js';
import { newId } from '../../common/ids.js';
import { reconcile } from './reconcile.js';

export class OrchestratorLoop {
  private scheduled = false;
  private running = false;
  private again = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly store: Store, private readonly view: ClusterView, private readonly log: Logger) {}

  start(): void {
    this.unsubscribe = this.view.onChange((changes) => {
      if (changes.some((c) => c.kind === 'service' || c.kind === 'task' || c.kind === 'node')) this.kick();
    });
    this.kick(); // resume after a restart: whatever the store holds is reconciled at once
  }

  stop(): void {
    this.stopped = true;
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

  private isIdle(): boolean {
    return !this.running && !this.scheduled;
  }

  kick(): void {
    if (this.stopped) return;
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
    try {
      const { put, delete: del } = reconcile({
        services: this.view.services, tasks: this.view.tasks, nodes: this.view.nodes, now: Date.now(), newId,
      });
      if (put.length === 0 && del.length === 0) return;
      const compares: Compare[] = [];
      const ops: Op[] = [];
      // Placing a task needs its service to be as seen: a service removed meanwhile fails
      // the txn, and the next pass deletes what is left of it instead.
      for (const serviceId of new Set(put.map((t) => t.serviceId))) {
        compares.push({ key: keys.service(serviceId), modRev: this.view.modRev(keys.service(serviceId)) });
      }
      for (const t of put) {
        compares.push({ key: keys.task(t.id), modRev: this.view.modRev(keys.task(t.id)) });
        ops.push({ type: 'put', key: keys.task(t.id), value: encode(t) });
      }
      for (const id of del) {
        const modRev = this.view.modRev(keys.task(id));
        if (modRev === 0) continue;
        compares.push({ key: keys.task(id), modRev });
        ops.push({ type: 'delete', key: keys.task(id) });
      }
      if (!ops.length) return;
      const result = await this.store.txn(compares, ops);
      // Let the view catch up first, so the next pass does not recompute from stale state.
      // A failed compare means something changed meanwhile: reconcile again over it.
      await this.view.waitFor(result.revision);
      if (!result.ok) this.again = true;
      else this.log.debug({ put: put.length, deleted: del.length, revision: result.revision }, 'tasks reconciled');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'reconcile failed');
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
      if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
