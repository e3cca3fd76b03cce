// The agent's link to the managers: tries them in turn with backoff and jitter,
// follows the Assignments stream (resubscribing on a sequence gap), heartbeats,
// and reports task status. While no manager is reachable the node keeps serving
// what it has; the COMPLETE on reconnect reconciles. The managers it tries are the
// cluster's set as the stream announces it (agent/managers.ts).
import * as grpc from '@grpc/grpc-js';
import { hushProto } from '../proto/load.js';
import type { DispatcherClient } from '../proto/gen/hush/v1/Dispatcher.js';
import type { AssignmentsMessage__Output } from '../proto/gen/hush/v1/AssignmentsMessage.js';
import type { Logger } from '../common/log.js';
import type { NodeSecrets } from './secrets/node-secrets.js';
import { CHANNEL_OPTIONS, nodeCredentials, type NodeCredentials } from './channel.js';
import { applyAssignments } from './assignments.js';
import { PartBuffer } from './parts.js';
import { StreamPayloads } from './stream-payloads.js';
import { reconnectDelayMs } from './backoff.js';
import { MAX_MANAGERS, ManagerList } from './managers.js';

type DispatcherCtor = new (addr: string, creds: grpc.ChannelCredentials, opts: grpc.ChannelOptions) => DispatcherClient;

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface ConnectionStatus {
  state: ConnectionState;
  manager?: string;
  since: number;
  lastError?: string;
  completes: number;
}

export interface ConnectionOptions {
  /** Where to start (--manager): replaced by the set the managers announce. */
  managers: string[];
  credentials: () => NodeCredentials;
  secrets: NodeSecrets;
  log: Logger;
  /** The cluster refused this node (removed, or its certificate revoked). */
  onDenied: (reason: string) => void;
  /** The first COMPLETE has been applied (readiness). */
  onFirstComplete?: () => void;
}

export class ManagerConnection {
  readonly status: ConnectionStatus = { state: 'connecting', since: Date.now(), completes: 0 };
  private stopped = false;
  private readonly managerList: ManagerList;
  private failures = 0;
  private current?: { client: DispatcherClient; stream: grpc.ClientReadableStream<AssignmentsMessage__Output>; heartbeat?: NodeJS.Timeout; parts: PartBuffer; payloads: StreamPayloads };
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ConnectionOptions) {
    this.managerList = new ManagerList(opts.managers);
  }

  /** The managers tried in turn: the --manager list until a manager announces the cluster's set. */
  get managers(): readonly string[] {
    return this.managerList.addresses;
  }

  /** Whether `managers` is the set a manager announced (else the --manager list). */
  get managersLearned(): boolean {
    return this.managerList.learned;
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.teardown();
  }

  /** Drops the current stream and connects again at once (e.g. with a renewed certificate). */
  reconnect(): void {
    this.teardown();
    clearTimeout(this.retryTimer);
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    // The one after the last tried: after a manager dies, another is tried first.
    const addr = this.managerList.take();
    this.setState('connecting', addr);
    const client = new (hushProto().Dispatcher as unknown as DispatcherCtor)(addr, nodeCredentials(this.opts.credentials()), CHANNEL_OPTIONS);
    const payloads = new StreamPayloads();
    const stream = client.Assignments({ sealPublicKey: payloads.publicKey });
    const current: NonNullable<ManagerConnection['current']> = { client, stream, parts: new PartBuffer(), payloads };
    this.current = current;
    let last = -1;
    const resubscribe = (why: string, err?: unknown) => {
      this.opts.log.warn({ manager: addr, err: err ? (err as Error).message : undefined }, why);
      this.teardown();
      this.connect();
    };

    stream.on('data', (part: AssignmentsMessage__Output) => {
      if (this.current !== current) return;
      let m: AssignmentsMessage__Output | undefined;
      try {
        if (payloads.onPart(part) === 'unsealed') {
          this.opts.log.warn({ manager: addr }, 'this manager does not seal payloads (an older hush manager): secrets travel in TLS only');
        }
        m = current.parts.add(part);
      } catch (err) {
        resubscribe('broken assignments stream: resubscribing', err);
        return;
      }
      if (!m) return; // more parts to come
      if (m.type === 'INCREMENTAL' && m.appliesTo !== last) {
        this.opts.log.warn({ manager: addr, expected: last, appliesTo: m.appliesTo }, 'sequence gap in assignments: resubscribing');
        this.teardown();
        this.connect();
        return;
      }
      last = m.resultsIn;
      // An INCREMENTAL without changes only announces the managers (applies_to = results_in).
      if (m.type === 'COMPLETE' || m.changes.length) {
        let applied: ReturnType<typeof applyAssignments>;
        try {
          applied = applyAssignments(this.opts.secrets, m, (s) => payloads.open(s));
        } catch (err) {
          resubscribe('a payload in the assignments did not open: resubscribing', err);
          return;
        }
        this.report(client, applied.added, applied.removed);
      }
      if (m.managers.length) this.learnManagers(m.managers, addr);
      if (m.type === 'COMPLETE') {
        this.failures = 0;
        this.status.completes++;
        this.setState('connected', addr);
        this.opts.log.info({ manager: addr, tasks: this.opts.secrets.taskList().length }, 'assignments complete');
        this.startHeartbeats(current, addr);
        if (this.status.completes === 1) this.opts.onFirstComplete?.();
      }
    });
    stream.on('error', () => { /* the status event says why */ });
    stream.on('status', (s: grpc.StatusObject) => {
      if (this.current !== current) return;
      this.teardown();
      if (s.code === grpc.status.PERMISSION_DENIED) {
        this.opts.onDenied(s.details);
        return;
      }
      this.fail(addr, s.details || grpc.status[s.code]);
    });
  }

  /** The cluster's managers as `from` announced them: the next reconnect tries those. */
  private learnManagers(announced: string[], from: string): void {
    const { changed, ignored } = this.managerList.learn(announced, from);
    if (ignored.length) {
      this.opts.log.warn({ manager: from, ignored: ignored.slice(0, 5).map((a) => String(a).slice(0, 100)), count: ignored.length },
        `ignored manager addresses announced by the manager: not HOST:PORT, or more than ${MAX_MANAGERS}`);
    }
    if (changed) this.opts.log.info({ manager: from, managers: this.managers }, 'the cluster\'s managers changed: reconnects try these');
  }

  private startHeartbeats(current: NonNullable<ManagerConnection['current']>, addr: string): void {
    const beat = () => {
      current.client.Heartbeat({}, { deadline: Date.now() + 10_000 }, (err, res) => {
        if (this.current !== current) return;
        if (err?.code === grpc.status.PERMISSION_DENIED) return this.opts.onDenied(err.details);
        if (err) this.opts.log.warn({ manager: addr, err: err.details }, 'heartbeat failed');
        const period = res?.periodMs || 5000;
        // Jitter below the period, so that missing three periods really means three misses.
        current.heartbeat = setTimeout(beat, period * (0.7 + 0.2 * Math.random()));
      });
    };
    beat();
  }

  private report(client: DispatcherClient, added: string[], removed: string[]): void {
    const updates = [
      ...added.map((taskId) => ({ taskId, state: 'ready', message: '' })),
      ...removed.map((taskId) => ({ taskId, state: 'removed', message: '' })),
    ];
    if (!updates.length) return;
    client.UpdateTaskStatus({ updates }, { deadline: Date.now() + 10_000 }, (err) => {
      if (err) this.opts.log.warn({ err: err.details }, 'cannot report task status');
    });
  }

  private fail(addr: string, why: string): void {
    this.failures++;
    this.status.lastError = why;
    this.setState('disconnected', addr);
    const delay = reconnectDelayMs(this.failures);
    this.opts.log.warn({ manager: addr, err: why, retryInMs: delay, servingTasks: this.opts.secrets.taskList().length },
      'lost the manager: still serving the secrets held in memory');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private setState(state: ConnectionState, manager: string): void {
    if (this.status.state !== state) this.status.since = Date.now();
    this.status.state = state;
    this.status.manager = manager;
  }

  private teardown(): void {
    const c = this.current;
    this.current = undefined;
    if (!c) return;
    clearTimeout(c.heartbeat);
    c.parts.discard();
    c.payloads.wipe();
    c.stream.cancel();
    c.client.close();
  }
}
