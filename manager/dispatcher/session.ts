// One node's Assignments stream: a COMPLETE first, then INCREMENTAL diffs of what
// the node is entitled to, each with sequence numbers (applies_to → results_in).
// Sends are serialized per stream and honour back-pressure; changes that arrive
// while a send is in flight are coalesced into the next diff. A change costs what it touches:
// the Dispatcher names the tasks it may concern, and only those are recomputed and compared.
import * as grpc from '@grpc/grpc-js';
import { setImmediate } from 'node:timers/promises';
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentChange } from '../../proto/gen/hush/v1/AssignmentChange.js';
import type { Logger } from '../../common/log.js';
import { assignTask, isEmptyDiff, type SecretAssignment, type TaskAssignment, type TaskEntitlement } from './assignments.js';
import { SentAssignments, type PendingDiff } from './sent.js';
import { splitMessage } from './parts.js';
import type { ClusterView } from '../state/view.js';

export type PayloadReader = (secretId: string, version: number) => Promise<Buffer>;

export class Session {
  private readonly sent = new SentAssignments();
  private seq = 0;
  /** Tasks whose assignment may have changed since it was last computed. */
  private dirty = new Set<string>();
  /** Recompute every task (the first message, or a poke that names none). */
  private dirtyAll = true;
  private flushing = false;
  closed = false;

  constructor(
    readonly nodeId: string,
    readonly certSerial: string,
    private readonly call: grpc.ServerWritableStream<unknown, AssignmentsMessage>,
    private readonly view: ClusterView,
    private readonly readPayload: PayloadReader,
    private readonly log: Logger,
    private readonly revoking: ReadonlySet<string>,
  ) {}

  /**
   * Something this node may be entitled to changed: send the difference soon. `taskIds`: the
   * tasks it may concern (on this node before or after the change); none given: all of them.
   */
  poke(taskIds?: Iterable<string>): void {
    if (taskIds) for (const id of taskIds) this.dirty.add(id);
    else this.dirtyAll = true;
    if (!this.flushing && !this.closed) void this.flush();
  }

  /** Ends the stream with a status (e.g. the node was removed). */
  cut(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.closed = true;
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while ((this.dirtyAll || this.dirty.size) && !this.closed) {
        const ids = this.takeDirty();
        const complete = this.seq === 0;
        const diff = this.sent.diff(this.entitlements(ids));
        if (!complete && isEmptyDiff(diff)) continue;
        let added: AssignmentChange[];
        try {
          added = await Promise.all(diff.secretsAdded.map((s) => this.secretUpdate(s)));
        } catch (err) {
          if ((err as { code?: number }).code !== grpc.status.NOT_FOUND) throw err;
          // A version vanished between computing and reading (its last reference went away):
          // recompute these tasks, once the view has had a turn to catch up.
          for (const id of ids) this.dirty.add(id);
          await setImmediate();
          continue;
        }
        if (this.closed) return;
        const message: AssignmentsMessage = {
          type: complete ? 'COMPLETE' : 'INCREMENTAL', appliesTo: this.seq, resultsIn: this.seq + 1, changes: changesOf(diff, added),
        };
        this.seq += 1;
        this.sent.commit(diff);
        this.audit(diff);
        for (const part of splitMessage(message)) {
          if (this.closed) return;
          if (!this.call.write(part)) await this.drained();
        }
      }
    } catch (err) {
      this.log.error({ nodeId: this.nodeId, err: (err as Error).message }, 'assignments stream failed');
      this.cut(grpc.status.INTERNAL, 'the manager could not compute this node\'s assignments');
    } finally {
      this.flushing = false;
    }
  }

  /** Back-pressure: resolves once the stream can take more (or is gone). */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => { this.call.off('drain', done); this.call.off('close', done); resolve(); };
      this.call.on('drain', done);
      this.call.on('close', done);
    });
  }

  /** The tasks to recompute now: the dirty ones, or all on the node and all sent. */
  private takeDirty(): Set<string> {
    let ids = this.dirty;
    this.dirty = new Set();
    if (this.dirtyAll) {
      this.dirtyAll = false;
      ids = new Set([...(this.view.tasksByNode.get(this.nodeId) ?? []), ...this.sent.tasks.keys()]);
    }
    return ids;
  }

  /** What each task entitles this node to now (undefined: nothing, e.g. it left the node). */
  private entitlements(ids: Set<string>): Map<string, TaskEntitlement | undefined> {
    const out = new Map<string, TaskEntitlement | undefined>();
    for (const id of ids) {
      const task = this.view.tasks.get(id);
      out.set(id, task?.nodeId === this.nodeId ? assignTask(this.view, task, this.revoking) : undefined);
    }
    return out;
  }

  private async secretUpdate(s: SecretAssignment): Promise<AssignmentChange> {
    const data = await this.readPayload(s.id, s.version);
    return { action: 'UPDATE', assignment: { secret: { id: s.id, name: s.name, version: s.version, data, createdAtMs: s.createdAtMs } } };
  }

  /** One audit line per secret version delivered to or revoked from this node: ids only, never values. */
  private audit(diff: PendingDiff): void {
    for (const s of diff.secretsAdded) this.log.info({ audit: 'secret-delivered', nodeId: this.nodeId, secretId: s.id, version: s.version, tasks: this.sent.tasksUsing(s.id, s.version) }, 'secret delivered to node');
    for (const s of diff.secretsRemoved) this.log.info({ audit: 'secret-revoked', nodeId: this.nodeId, secretId: s.id, version: s.version }, 'secret revoked from node');
  }
}

/** Order: secrets before the tasks that use them; tasks removed before their secrets. */
function changesOf(diff: PendingDiff, added: AssignmentChange[]): AssignmentChange[] {
  const changes: AssignmentChange[] = [...added];
  for (const t of diff.tasksChanged) changes.push({ action: 'UPDATE', assignment: { task: taskMessage(t) } });
  for (const t of diff.tasksRemoved) changes.push({ action: 'REMOVE', assignment: { task: taskMessage(t) } });
  for (const s of diff.secretsRemoved) changes.push({ action: 'REMOVE', assignment: { secret: { id: s.id, name: s.name, version: s.version } } });
  return changes;
}

function taskMessage(t: TaskAssignment) {
  return { id: t.id, name: t.name, serviceId: t.serviceId, serviceName: t.serviceName, secrets: t.secrets };
}
