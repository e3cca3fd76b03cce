// One node's Assignments stream: a COMPLETE first, then INCREMENTAL diffs of what
// the node is entitled to, each with sequence numbers (applies_to → results_in).
// Sends are serialized per stream and honour back-pressure; changes that arrive
// while a send is in flight are coalesced into the next diff.
import type * as grpc from '@grpc/grpc-js';
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentChange } from '../../proto/gen/hush/v1/AssignmentChange.js';
import type { Logger } from '../../common/log.js';
import {
  computeAssignments, diffAssignments, isEmptyDiff, type NodeAssignments, type SecretAssignment, type TaskAssignment,
} from './assignments.js';
import type { ClusterView } from '../state/view.js';

export type PayloadReader = (secretId: string, version: number) => Promise<Buffer>;

const EMPTY: NodeAssignments = { tasks: new Map(), secrets: new Map() };

export class Session {
  private sent: NodeAssignments = EMPTY;
  private seq = 0;
  private dirty = true;
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

  /** Something this node may be entitled to changed: send the difference soon. */
  poke(): void {
    this.dirty = true;
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
      while (this.dirty && !this.closed) {
        this.dirty = false;
        const next = computeAssignments(this.view, this.nodeId, this.revoking);
        const complete = this.seq === 0;
        const diff = diffAssignments(complete ? EMPTY : this.sent, next);
        if (!complete && isEmptyDiff(diff)) continue;
        let added: AssignmentChange[];
        try {
          added = await Promise.all(diff.secretsAdded.map((s) => this.secretUpdate(s)));
        } catch (err) {
          // A version vanished between computing and reading (its last reference went away): recompute.
          if ((err as { code?: number }).code === 5 /* NOT_FOUND */) { this.dirty = true; continue; }
          throw err;
        }
        // Order: secrets before the tasks that use them; tasks removed before their secrets.
        const changes: AssignmentChange[] = [...added];
        for (const t of diff.tasksChanged) changes.push({ action: 'UPDATE', assignment: { task: taskMessage(t) } });
        for (const t of diff.tasksRemoved) changes.push({ action: 'REMOVE', assignment: { task: taskMessage(t) } });
        for (const s of diff.secretsRemoved) changes.push({ action: 'REMOVE', assignment: { secret: { id: s.id, name: s.name, version: s.version } } });
        if (this.closed) return;
        const message: AssignmentsMessage = {
          type: complete ? 'COMPLETE' : 'INCREMENTAL', appliesTo: this.seq, resultsIn: this.seq + 1, changes,
        };
        this.seq += 1;
        this.sent = next;
        this.audit(diff);
        if (!this.call.write(message)) await new Promise<void>((resolve) => {
          const done = () => { this.call.off('drain', done); this.call.off('close', done); resolve(); };
          this.call.on('drain', done);
          this.call.on('close', done);
        });
      }
    } catch (err) {
      this.log.error({ nodeId: this.nodeId, err: (err as Error).message }, 'assignments stream failed');
      this.cut(13 /* INTERNAL */, 'the manager could not compute this node\'s assignments');
    } finally {
      this.flushing = false;
    }
  }

  private async secretUpdate(s: SecretAssignment): Promise<AssignmentChange> {
    const data = await this.readPayload(s.id, s.version);
    return { action: 'UPDATE', assignment: { secret: { id: s.id, name: s.name, version: s.version, data, createdAtMs: s.createdAtMs } } };
  }

  /** One audit line per secret version delivered to or revoked from this node: ids only, never values. */
  private audit(diff: ReturnType<typeof diffAssignments>): void {
    for (const s of diff.secretsAdded) this.log.info({ audit: 'secret-delivered', nodeId: this.nodeId, secretId: s.id, version: s.version, tasks: this.tasksUsing(s) }, 'secret delivered to node');
    for (const s of diff.secretsRemoved) this.log.info({ audit: 'secret-revoked', nodeId: this.nodeId, secretId: s.id, version: s.version }, 'secret revoked from node');
  }

  private tasksUsing(s: SecretAssignment): string[] {
    return [...this.sent.tasks.values()].filter((t) => t.secrets.some((r) => r.secretId === s.id && r.version === s.version)).map((t) => t.id);
  }
}

function taskMessage(t: TaskAssignment) {
  return { id: t.id, name: t.name, serviceId: t.serviceId, serviceName: t.serviceName, secrets: t.secrets };
}
