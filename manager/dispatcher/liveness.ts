// Node liveness from heartbeats: a node is ready while it heartbeats, and down
// once it has missed `missed` periods. Only transitions are written to the store.
import type { ClusterView } from '../state/view.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { NodeState } from '../state/records.js';
import type { Logger } from '../../common/log.js';
import { STORE_SILENCE_MS } from '../cluster/presence.js';

export interface LivenessOptions {
  periodMs: number;
  missed: number;
  /** The local clock (tests drive their own). */
  now?: () => number;
}

/**
 * Several managers on one store: each keeps the heartbeats of the nodes whose streams it holds in
 * its own memory, and the leader judges the others (no stream anywhere, or a stream on a manager
 * that stopped answering) from the store's session records, after a grace period.
 */
export interface LivenessCluster {
  managerId: string;
  /** Whether this manager leads the scheduler now. */
  leading(): boolean;
  /** When (local clock) this manager last saw that manager alive; undefined if never. */
  managerSeenAt(managerId: string): number | undefined;
  /** The registry the leader writes "down" through (fenced by its term). */
  leaderNodes: NodeRegistry;
}

export class Liveness {
  private readonly lastSeen = new Map<string, number>();
  private readonly now: () => number;
  private readonly startedAt: number;
  /** Set by the manager when its store is shared with other managers. */
  cluster?: LivenessCluster;
  /** When this manager's current term began, or it last saw each node's session end (local clock). */
  private leadingSince = 0;
  private readonly sessionGoneAt = new Map<string, number>();
  private unsubscribe?: () => void;
  /** Transitions being written, so a burst of heartbeats writes once. */
  private readonly writing = new Set<string>();
  private timer?: NodeJS.Timeout;
  /** Whether the last sweep found the store silent, and when the view heard from it again after a
   *  silence (local clock): the node heartbeats refused meanwhile (authorizing a node may read the
   *  store) are not missed heartbeats. */
  private storeSilent = false;
  private storeBackAt = 0;
  /** When the last sweep ran, and when this manager's event loop last came back from a stall
   *  (local clock): heartbeats that arrived during a stall are still unread behind the sweep. */
  private lastSweepAt: number;
  private loopBackAt = 0;

  constructor(private readonly view: ClusterView, private readonly nodes: NodeRegistry,
    private readonly log: Logger, readonly opts: LivenessOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.lastSweepAt = this.now();
  }

  start(): void {
    this.lastSweepAt = this.now();
    this.timer = setInterval(() => this.sweep(), this.sweepEveryMs);
    this.timer.unref();
    this.unsubscribe = this.view.onChange((changes) => {
      for (const c of changes) if (c.kind === 'session' && !c.after) this.sessionGoneAt.set(c.id, this.now());
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** The node proved it is alive (heartbeat, or a stream opened). */
  seen(nodeId: string): void {
    this.lastSeen.set(nodeId, this.now());
    if (this.view.nodes.get(nodeId)?.state !== 'ready') this.transition(nodeId, 'ready');
  }

  /** Resolves once the view shows the node ready (or gone), or after timeoutMs. */
  ready(nodeId: string, timeoutMs = 2000): Promise<void> {
    const isReady = () => this.view.nodes.get(nodeId)?.state !== 'unknown' && this.view.nodes.get(nodeId)?.state !== 'down';
    if (isReady()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); unsubscribe(); resolve(); };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = this.view.onChange(() => { if (isReady()) done(); });
    });
  }

  forget(nodeId: string): void {
    this.lastSeen.delete(nodeId);
  }

  /** The node's last stream to this manager ended. With other managers it may be on one of them
   *  now: the leader judges it from here on (alone, this manager still does). */
  released(nodeId: string): void {
    if (!this.cluster) return;
    this.lastSeen.delete(nodeId);
    this.sessionGoneAt.set(nodeId, this.now());
  }

  private get sweepEveryMs(): number {
    return Math.max(100, Math.min(1000, this.opts.periodMs / 2));
  }

  /** One pass over the nodes (the timer's; tests call it with their own clock). */
  sweep(): void {
    const now = this.now();
    // This sweep is late by more than half a period: the manager's own event loop was held (a long
    // synchronous job, the host starved of CPU). The timers run before the sockets are read, so the
    // heartbeats sent meanwhile are not seen yet: every node gets a full grace from now.
    if (now - this.lastSweepAt > this.sweepEveryMs + this.opts.periodMs / 2) this.loopBackAt = now;
    this.lastSweepAt = now;
    const deadline = now - this.opts.periodMs * this.opts.missed;
    const cluster = this.cluster;
    const leading = cluster?.leading() ?? true;
    if (cluster && leading && !this.leadingSince) this.leadingSince = now;
    if (!leading) this.leadingSince = 0;
    // The store is silent: no judging (nothing could be written either) until it answers again, and
    // then a full grace, in which the nodes' heartbeats get through again.
    if (cluster && now - this.view.lastHeardAt > STORE_SILENCE_MS) {
      this.storeSilent = true;
      return;
    }
    if (this.storeSilent) {
      this.storeSilent = false;
      this.storeBackAt = this.view.lastHeardAt;
    }
    for (const node of this.view.nodes.values()) {
      if (node.state === 'down') continue;
      const local = this.lastSeen.get(node.id);
      let last: number;
      if (local !== undefined) last = local; // its stream is (or was last) here: this manager judges it
      else if (!cluster) last = this.startedAt; // after a restart, a full grace period to heartbeat again
      else if (!leading) continue;
      else {
        // The leader: a node held by a manager that answers is alive; otherwise the grace runs from
        // when that manager was last seen, the stream ended, or this term began, whichever is latest.
        const session = this.view.sessions.get(node.id);
        const holder = session && session.managerId !== cluster.managerId ? cluster.managerSeenAt(session.managerId) : undefined;
        last = Math.max(holder ?? 0, this.sessionGoneAt.get(node.id) ?? 0, this.leadingSince);
      }
      if (cluster) last = Math.max(last, this.storeBackAt);
      last = Math.max(last, this.loopBackAt);
      if (last < deadline) this.transition(node.id, 'down', local === undefined && !!cluster);
    }
  }

  private transition(nodeId: string, state: NodeState, asLeader = false): void {
    if (this.writing.has(nodeId)) return;
    this.writing.add(nodeId);
    const nodes = asLeader && this.cluster ? this.cluster.leaderNodes : this.nodes;
    nodes.update(nodeId, (n) => ({ ...n, state })).then(
      () => this.log.info({ nodeId, state }, state === 'down' ? 'node down: missed heartbeats' : 'node ready'),
      (err: Error) => this.log.warn({ nodeId, state, err: err.message }, 'cannot record node state'),
    ).finally(() => this.writing.delete(nodeId));
  }
}
