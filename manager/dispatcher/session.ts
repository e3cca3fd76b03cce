// One node's Assignments stream: a COMPLETE first, then INCREMENTAL diffs of what
// the node is entitled to, each with sequence numbers (applies_to → results_in).
// Sends are serialized per stream and honour back-pressure; changes that arrive
// while a send is in flight are coalesced into the next diff. A change costs what it touches:
// the Dispatcher names the tasks it may concern, and only those are recomputed and compared.
// The cluster's managers ride along: in the COMPLETE, and again whenever the set changes.
import * as grpc from '@grpc/grpc-js';
import { setImmediate } from 'node:timers/promises';
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentChange } from '../../proto/gen/hush/v1/AssignmentChange.js';
import type { Logger } from '../../common/log.js';
import { assignTask, isEmptyDiff, type SecretAssignment, type TaskAssignment, type TaskEntitlement } from './assignments.js';
import { SentAssignments, type PendingDiff } from './sent.js';
import { splitMessage } from './parts.js';
import type { ClusterView } from '../state/view.js';
import type { SealChain } from '../../common/session-seal.js';
import { versionKey } from '../../common/version-key.js';
import type { PayloadLease, SharedPayloads } from './shared-payloads.js';

/** Plaintext unsealed per turn of the event loop at most (about 10 ms of XSalsa20-Poly1305 here). */
const UNSEAL_BYTES_PER_TURN = 1 << 20;

/**
 * The added secrets' payloads, each settled, read one after another with a turn of the event loop
 * whenever a megabyte has been unsealed: a node entitled to 70 MB would otherwise hold this manager
 * for seconds (every call waiting, heartbeats unread until their nodes look down).
 */
async function leaseInTurns(payloads: SharedPayloads, added: readonly SecretAssignment[]): Promise<PromiseSettledResult<PayloadLease>[]> {
  const results: PromiseSettledResult<PayloadLease>[] = [];
  let sinceTurn = 0;
  for (const s of added) {
    try {
      const lease = await payloads.lease(s.id, s.version);
      results.push({ status: 'fulfilled', value: lease });
      sinceTurn += lease.data.length;
    } catch (reason) {
      results.push({ status: 'rejected', reason });
    }
    if (sinceTurn >= UNSEAL_BYTES_PER_TURN) {
      sinceTurn = 0;
      await setImmediate();
    }
  }
  return results;
}

/** How this stream's payloads travel: sealed with the agent's chain, or (an older agent) in TLS only. */
export type StreamSeal = { chain: SealChain; managerPublicKey: Buffer } | undefined;

export class Session {
  private readonly sent = new SentAssignments();
  private seq = 0;
  /** Tasks whose assignment may have changed since it was last computed. */
  private dirty = new Set<string>();
  /** Recompute every task (the first message, or a poke that names none). */
  private dirtyAll = true;
  private flushing = false;
  /** The set of managers changed since it was last sent. */
  private managersNews = false;
  closed = false;

  constructor(
    readonly nodeId: string,
    readonly certSerial: string,
    private readonly call: grpc.ServerWritableStream<unknown, AssignmentsMessage>,
    private readonly view: ClusterView,
    private readonly payloads: SharedPayloads,
    private readonly log: Logger,
    private readonly revoking: ReadonlySet<string>,
    private readonly seal: StreamSeal,
    /** The cluster's managers (host:port, sorted), sent in the COMPLETE; empty: none known yet. */
    private managers: readonly string[] = [],
  ) {}

  /** The stream ended: its chain is zeroed. */
  close(): void {
    this.closed = true;
    this.seal?.chain.wipe();
  }

  /**
   * Something this node may be entitled to changed: send the difference soon. `taskIds`: the
   * tasks it may concern (on this node before or after the change); none given: all of them.
   */
  poke(taskIds?: Iterable<string>): void {
    if (taskIds) for (const id of taskIds) this.dirty.add(id);
    else this.dirtyAll = true;
    if (!this.flushing && !this.closed) void this.flush();
  }

  /** The cluster's managers changed: the node is told with the next message (one without changes if none is due). */
  setManagers(managers: readonly string[]): void {
    this.managers = managers;
    this.managersNews = true;
    if (!this.flushing && !this.closed) void this.flush();
  }

  /** Ends the stream with a status (e.g. the node was removed). */
  cut(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.close();
    this.call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while ((this.dirtyAll || this.dirty.size || this.managersNews) && !this.closed) {
        const ids = this.takeDirty();
        const complete = this.seq === 0;
        const diff = this.sent.diff(this.entitlements(ids));
        if (!complete && isEmptyDiff(diff)) {
          if (this.managersNews) await this.sendManagers();
          continue;
        }
        const leases = await leaseInTurns(this.payloads, diff.secretsAdded);
        const failed = leases.find((l): l is PromiseRejectedResult => l.status === 'rejected');
        if (failed) {
          for (const l of leases) if (l.status === 'fulfilled') l.value.release();
          if ((failed.reason as { code?: number }).code !== grpc.status.NOT_FOUND) throw failed.reason;
          // A version vanished between computing and reading (its last reference went away):
          // recompute these tasks, once the view has had a turn to catch up.
          for (const id of ids) this.dirty.add(id);
          await setImmediate();
          continue;
        }
        const held = leases.map((l) => (l as PromiseFulfilledResult<PayloadLease>).value);
        if (this.closed) {
          for (const l of held) l.release();
          return;
        }
        // Sealed in message order: the agent opens them in that order (common/session-seal.ts).
        let added: AssignmentChange[];
        try {
          added = diff.secretsAdded.map((s, i) => this.secretUpdate(s, held[i]));
        } catch (err) {
          for (const l of held) l.release(); // zeroed, whatever failed
          throw err;
        }
        const message: AssignmentsMessage = {
          type: complete ? 'COMPLETE' : 'INCREMENTAL', appliesTo: this.seq, resultsIn: this.seq + 1, changes: changesOf(diff, added),
        };
        this.seq += 1;
        this.sent.commit(diff);
        this.audit(diff);
        const parts = splitMessage(message);
        if (complete && this.seal) parts[0].sealPublicKey = this.seal.managerPublicKey;
        // In the last part: the node reads a message sent in parts as its last part with all the changes (agent/parts.ts).
        if ((complete || this.managersNews) && this.managers.length) parts[parts.length - 1].managers = [...this.managers];
        this.managersNews = false;
        try {
          for (const part of parts) {
            if (this.closed) return;
            // grpc-js serializes in write(): after it, the message's plaintext (older agents only) can go.
            if (!this.call.write(part)) await this.drained();
          }
        } finally {
          for (const l of held) l.release();
        }
      }
    } catch (err) {
      this.log.error({ nodeId: this.nodeId, err: (err as Error).message }, 'assignments stream failed');
      this.cut(grpc.status.INTERNAL, 'the manager could not compute this node\'s assignments');
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Only the set of managers changed: an INCREMENTAL without changes that moves no version
   * (applies_to = results_in = the current one), which any agent accepts as a no-op.
   */
  private async sendManagers(): Promise<void> {
    this.managersNews = false;
    if (!this.managers.length) return; // empty: no news
    const message: AssignmentsMessage = { type: 'INCREMENTAL', appliesTo: this.seq, resultsIn: this.seq, changes: [], managers: [...this.managers] };
    if (!this.call.write(message)) await this.drained();
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

  /** The UPDATE of one version: sealed with the next chain key (the lease can be released then), else in the clear. */
  private secretUpdate(s: SecretAssignment, payload: PayloadLease): AssignmentChange {
    const secret = { id: s.id, name: s.name, version: s.version, createdAtMs: s.createdAtMs };
    if (!this.seal) return { action: 'UPDATE', assignment: { secret: { ...secret, data: payload.data } } };
    const sealed = this.seal.chain.seal(payload.data, versionKey(s.id, s.version));
    payload.release();
    return { action: 'UPDATE', assignment: { secret: { ...secret, sealed } } };
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
