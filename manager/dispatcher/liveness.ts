// Node liveness from heartbeats: a node is ready while it heartbeats, and down
// once it has missed `missed` periods. Only transitions are written to the store.
import type { ClusterView } from '../state/view.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { NodeState } from '../state/records.js';
import type { Logger } from '../../common/log.js';

export interface LivenessOptions {
  periodMs: number;
  missed: number;
}

export class Liveness {
  private readonly lastSeen = new Map<string, number>();
  private readonly startedAt = Date.now();
  /** Transitions being written, so a burst of heartbeats writes once. */
  private readonly writing = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly view: ClusterView, private readonly nodes: NodeRegistry,
    private readonly log: Logger, readonly opts: LivenessOptions) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), Math.max(100, Math.min(1000, this.opts.periodMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The node proved it is alive (heartbeat, or a stream opened). */
  seen(nodeId: string): void {
    this.lastSeen.set(nodeId, Date.now());
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

  private sweep(): void {
    const deadline = Date.now() - this.opts.periodMs * this.opts.missed;
    for (const node of this.view.nodes.values()) {
      if (node.state === 'down') continue;
      // After a manager restart, a node gets a full grace period to heartbeat again.
      const last = this.lastSeen.get(node.id) ?? this.startedAt;
      if (last < deadline) this.transition(node.id, 'down');
    }
  }

  private transition(nodeId: string, state: NodeState): void {
    if (this.writing.has(nodeId)) return;
    this.writing.add(nodeId);
    this.nodes.update(nodeId, (n) => ({ ...n, state })).then(
      () => this.log.info({ nodeId, state }, state === 'down' ? 'node down: missed heartbeats' : 'node ready'),
      (err: Error) => this.log.warn({ nodeId, state, err: err.message }, 'cannot record node state'),
    ).finally(() => this.writing.delete(nodeId));
  }
}
