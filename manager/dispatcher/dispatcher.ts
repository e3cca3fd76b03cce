// The Dispatcher service: each node's only channel. The node's identity comes
// from its verified certificate; a node only ever receives what its own tasks use.
import * as grpc from '@grpc/grpc-js';
import type { DispatcherHandlers } from '../../proto/gen/hush/v1/Dispatcher.js';
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import { invalidArgument, unauthenticated } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Store } from '../store/store.js';
import type { ClusterView, ViewChange } from '../state/view.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { NodeRecord, TaskState } from '../state/records.js';
import type { Caller } from '../auth/authorize.js';
import { callerOf } from '../server/callers.js';
import { toServiceError, unary, type RpcContext } from '../server/rpc.js';
import { Liveness, type LivenessOptions } from './liveness.js';
import { Session, type StreamSeal } from './session.js';
import { SharedPayloads, type PayloadReader } from './shared-payloads.js';
import { SealError, SealHandshake } from '../../common/session-seal.js';
import type { AssignmentsRequest__Output } from '../../proto/gen/hush/v1/AssignmentsRequest.js';
import { commitTaskStatus } from './task-status.js';
import type { SessionRecords } from './session-records.js';
import { isHostPort } from '../../common/host-port.js';

const REPORTABLE: TaskState[] = ['ready', 'removed', 'failed'];

export class Dispatcher {
  private readonly sessions = new Map<string, Set<Session>>();
  readonly liveness: Liveness;
  /** Set by the manager when other managers share its store: it records which nodes it holds. */
  sessionRecords?: SessionRecords;
  private unsubscribe?: () => void;
  /** The cluster's managers as last published (host:port, sorted, distinct); empty: none yet. */
  private managers: readonly string[] = [];

  constructor(
    private readonly store: Store,
    private readonly view: ClusterView,
    nodes: NodeRegistry,
    readPayload: PayloadReader,
    private readonly log: Logger,
    opts: LivenessOptions,
    /** Resolves once the orchestrator has placed tasks for the view as it is (see open()). */
    private readonly settled: () => Promise<void> = async () => undefined,
  ) {
    this.liveness = new Liveness(view, nodes, log, opts);
    this.payloads = new SharedPayloads(readPayload);
  }

  start(): void {
    this.liveness.start();
    this.unsubscribe = this.view.onChange((changes) => this.onChanges(changes));
  }

  stop(): void {
    this.liveness.stop();
    this.unsubscribe?.();
    for (const set of this.sessions.values()) for (const s of set) s.cut(grpc.status.UNAVAILABLE, 'the manager is shutting down');
  }

  handlers(ctx: RpcContext): DispatcherHandlers {
    return {
      Assignments: (call) => {
        Promise.resolve().then(() => this.open(call, nodeOf(callerOf(call))))
          .catch((err) => call.emit('error', toServiceError(err, ctx.log, 'Dispatcher.Assignments')));
      },
      Heartbeat: unary(ctx, 'Dispatcher.Heartbeat', (_req, caller) => {
        this.liveness.seen(nodeOf(caller).nodeId);
        return { periodMs: this.liveness.opts.periodMs };
      }),
      UpdateTaskStatus: unary(ctx, 'Dispatcher.UpdateTaskStatus', async (req, caller) => {
        await this.updateTaskStatus(nodeOf(caller).nodeId, req.updates);
        return {};
      }),
    };
  }

  /**
   * The host:port of every manager reachable in the cluster now, as this manager sees it (the
   * manager calls this at start and whenever the set changes). Every new stream gets the set in its
   * first message; on a change, every open stream gets a message carrying it (an INCREMENTAL without
   * changes if nothing else is due), so that agents learn managers that joined and drop removed ones.
   * The set is kept sorted and without duplicates; an entry that is not HOST:PORT is dropped (one
   * warning). An empty set is "no news": nodes keep the managers they have.
   */
  publishManagers(addrs: string[]): void {
    const valid = addrs.filter((a) => typeof a === 'string' && isHostPort(a));
    if (valid.length < addrs.length) this.log.warn({ invalid: addrs.filter((a) => !valid.includes(a)).map((a) => String(a).slice(0, 100)) }, 'not HOST:PORT: left out of the managers announced to nodes');
    const next = [...new Set(valid)].sort();
    if (next.length === this.managers.length && next.every((a, i) => a === this.managers[i])) return;
    this.managers = next;
    this.log.info({ managers: next }, 'the managers announced to nodes changed');
    if (!next.length) return;
    for (const set of this.sessions.values()) for (const s of set) s.setManagers(next);
  }

  /** Task ids whose removal is being committed: already revoked on their nodes. */
  private readonly revoking = new Set<string>();

  /**
   * Revokes tasks on their nodes before the txn that deletes them is durable: revoking early is
   * always safe, and it keeps revocation latency off the store's fsync. The REMOVE is written
   * before the commit runs (the store commits on a later tick). Returns a function that ends the
   * early revocation: after a failed txn the tasks are offered again; after a committed one the
   * view no longer has them and nothing changes.
   */
  revokeEarly(taskIds: string[]): () => void {
    const byNode = new Map<string, Set<string>>();
    for (const id of taskIds) {
      const task = this.view.tasks.get(id);
      if (!task?.nodeId) continue;
      this.revoking.add(id);
      addTo(byNode, task.nodeId, id);
    }
    this.pokeAll(byNode);
    return () => {
      for (const id of taskIds) this.revoking.delete(id);
      this.pokeAll(byNode);
    };
  }

  /** Hands each node's sessions the tasks of it that may have changed. */
  private pokeAll(byNode: Map<string, Set<string>>): void {
    for (const [nodeId, ids] of byNode) for (const s of this.sessions.get(nodeId) ?? []) s.poke(ids);
  }

  /** Sessions flushed for one change share one read (and decryption) of each payload. */
  private readonly payloads: SharedPayloads;

  private async open(call: grpc.ServerWritableStream<AssignmentsRequest__Output, AssignmentsMessage>, who: { nodeId: string; serial: string }): Promise<void> {
    const seal = this.streamSeal(call.request, who.nodeId);
    // A node that just joined, or comes back from down, gets its tasks only once it is ready and
    // the orchestrator has placed them: wait for both, so that its first COMPLETE (which the agent
    // treats as readiness) already holds them.
    this.liveness.seen(who.nodeId);
    await this.liveness.ready(who.nodeId);
    await this.settled();
    if (call.cancelled) {
      seal?.chain.wipe();
      return;
    }
    const session = new Session(who.nodeId, who.serial, call, this.view, this.payloads, this.log, this.revoking, seal, this.managers);
    let set = this.sessions.get(who.nodeId);
    if (!set) {
      this.sessions.set(who.nodeId, (set = new Set()));
      this.sessionRecords?.opened(who.nodeId);
    }
    set.add(session);
    let ended = false;
    const close = () => {
      if (ended) return; // cancelled, close and error may each end it
      ended = true;
      session.close();
      set!.delete(session);
      if (set!.size === 0 && this.sessions.get(who.nodeId) === set) {
        this.sessions.delete(who.nodeId);
        this.sessionRecords?.closed(who.nodeId);
        this.liveness.released(who.nodeId);
      }
      this.log.info({ nodeId: who.nodeId }, 'node session closed');
    };
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    this.log.info({ nodeId: who.nodeId }, 'node session opened');
    session.poke();
  }

  /** The stream's key chain, agreed with the agent's seal key; none from an older agent (TLS only). */
  private streamSeal(request: AssignmentsRequest__Output, nodeId: string): StreamSeal {
    const agentKey = request?.sealPublicKey ?? Buffer.alloc(0);
    if (agentKey.length === 0) {
      this.log.warn({ nodeId }, 'this node\'s agent does not seal payloads (an older hush agent): its secrets travel in TLS only');
      return undefined;
    }
    const handshake = new SealHandshake();
    try {
      return { chain: handshake.agree(agentKey, agentKey, handshake.publicKey), managerPublicKey: handshake.publicKey };
    } catch (err) {
      if (err instanceof SealError) throw invalidArgument(`Assignments: ${err.message}`);
      throw err;
    }
  }

  /**
   * Pokes the sessions of every node a change can concern with the tasks it can concern: a task
   * that changed (on its node before and after), every task of a service that changed, and every
   * task of a service referencing a secret that changed. Cuts removed nodes at once.
   */
  private onChanges(changes: ViewChange[]): void {
    const byNode = new Map<string, Set<string>>();
    // Only nodes with a session need to know; the others get a COMPLETE when they connect.
    const mark = (nodeId: string | undefined, taskId: string) => {
      if (nodeId && this.sessions.has(nodeId)) addTo(byNode, nodeId, taskId);
    };
    const services = new Set<string>();
    for (const c of changes) {
      switch (c.kind) {
        case 'task':
          mark(c.before?.nodeId, c.id);
          mark(c.after?.nodeId, c.id);
          break;
        case 'service':
          services.add(c.id);
          break;
        case 'secret':
          for (const id of this.view.servicesBySecret.get(c.id) ?? []) services.add(id);
          break;
        case 'node':
          if (!c.after) this.cutNode(c.id, 'this node was removed from the cluster');
          else this.cutReplaced(c.after);
          break;
        case 'denied':
          if (c.after) this.cutNode(c.after.nodeId, 'this node\'s certificate was revoked', c.after.serial);
          break;
      }
    }
    // A service's tasks as the view has them now: a task that left the service or its node in
    // this batch is marked by its own change above.
    for (const sid of services) {
      for (const tid of this.view.tasksByService.get(sid) ?? []) mark(this.view.tasks.get(tid)?.nodeId, tid);
    }
    this.pokeAll(byNode);
  }

  /** Ends the streams opened with a certificate of the node that is no longer accepted (see NodeRecord.previousCertSerial). */
  private cutReplaced(node: NodeRecord): void {
    for (const s of [...(this.sessions.get(node.id) ?? [])]) {
      if (s.certSerial === node.certSerial || s.certSerial === node.previousCertSerial) continue;
      s.cut(grpc.status.PERMISSION_DENIED, 'this node\'s certificate was replaced by a renewal');
    }
  }

  private cutNode(nodeId: string, why: string, serial?: string): void {
    for (const s of [...(this.sessions.get(nodeId) ?? [])]) {
      if (serial && s.certSerial !== serial) continue;
      s.cut(grpc.status.PERMISSION_DENIED, why);
    }
    this.liveness.forget(nodeId);
  }

  private async updateTaskStatus(nodeId: string, updates: Array<{ taskId: string; state: string; message: string }>): Promise<void> {
    if (updates.length > 10_000) throw invalidArgument('too many task status updates in one call');
    for (const u of updates) {
      if (!REPORTABLE.includes(u.state as TaskState)) throw invalidArgument(`invalid task state ${JSON.stringify(String(u.state).slice(0, 20))}: ready, removed or failed`);
    }
    // A node may only report on its own tasks (checked there); reports on tasks already gone are moot.
    await commitTaskStatus(this.store, this.view, nodeId, updates.map((u) => ({ ...u, state: u.state as TaskState })));
  }
}

function addTo(by: Map<string, Set<string>>, key: string, id: string): void {
  let set = by.get(key);
  if (!set) by.set(key, (set = new Set()));
  set.add(id);
}

function nodeOf(caller: Caller): { nodeId: string; serial: string } {
  if (caller.kind !== 'node') throw unauthenticated('a node certificate is required');
  return { nodeId: caller.identity.nodeId, serial: caller.identity.serial };
}
