// A test node: joins with a real CSR, holds a real node certificate, and speaks
// the Dispatcher protocol over mutual TLS like an agent, recording every byte it
// is sent so tests can assert what a node did and did not receive.
import * as grpc from '@grpc/grpc-js';
import { hushProto } from '../../proto/load.js';
import type { DispatcherClient } from '../../proto/gen/hush/v1/Dispatcher.js';
import type { AssignmentsMessage__Output } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import { CHANNEL_OPTIONS, nodeCredentials, type NodeCredentials } from '../../agent/channel.js';
import { joinCluster } from '../../agent/join.js';
import { PartBuffer } from '../../agent/parts.js';
import { StreamPayloads } from '../../agent/stream-payloads.js';
import { versionKey } from '../../common/version-key.js';
import { waitUntil } from '../../common/testing/wait.js';

type DispatcherCtor = new (addr: string, creds: grpc.ChannelCredentials, opts: grpc.ChannelOptions) => DispatcherClient;

export interface NodeState {
  /** task id → task name */
  tasks: Map<string, { name: string; serviceName: string; secrets: Array<{ secretId: string; version: number; target: string; mode: number; uid: number; gid: number }> }>;
  /** `${secretId}@${version}` → payload */
  secrets: Map<string, Buffer>;
}

export class TestNode {
  /**
   * Every message, reassembled from its parts as an agent does (agent/parts.ts), with each secret's
   * `data` opened from `sealed` (common/session-seal.ts) unless the stream was opened unsealed.
   */
  readonly messages: AssignmentsMessage__Output[] = [];
  /** How many gRPC messages (parts) arrived. */
  partsReceived = 0;
  /** Every payload byte ever received (opened), to prove what never arrived. */
  readonly received: Buffer[] = [];
  /** Secret UPDATEs that arrived with plaintext in `data` (on the wire, before opening). */
  clearPayloads = 0;
  readonly state: NodeState = { tasks: new Map(), secrets: new Map() };
  streamStatus?: grpc.StatusObject;
  private readonly client: DispatcherClient;
  private stream?: grpc.ClientReadableStream<AssignmentsMessage__Output>;
  private heartbeatTimer?: NodeJS.Timeout;
  private waiters: Array<() => void> = [];

  constructor(readonly addr: string, readonly creds: NodeCredentials) {
    this.client = new (hushProto().Dispatcher as unknown as DispatcherCtor)(addr, nodeCredentials(creds), CHANNEL_OPTIONS);
  }

  static async join(addr: string, token: string, hostname: string, labels: Record<string, string> = {}): Promise<TestNode> {
    return new TestNode(addr, await joinCluster(addr, token, hostname, labels));
  }

  get id(): string {
    return this.creds.nodeId;
  }

  /**
   * Opens the Assignments stream and applies messages as an agent would. `seal: false` asks as an
   * older agent does (no seal key: payloads in the clear, inside TLS); `sealKey` sends these bytes as
   * the key instead of a valid one.
   */
  open(opts: { seal?: boolean; sealKey?: Buffer } = {}): void {
    const payloads = new StreamPayloads();
    const sealPublicKey = opts.sealKey ?? (opts.seal === false ? Buffer.alloc(0) : payloads.publicKey);
    const stream = this.client.Assignments({ sealPublicKey });
    this.stream = stream;
    this.streamStatus = undefined;
    const parts = new PartBuffer();
    stream.on('data', (part: AssignmentsMessage__Output) => {
      this.partsReceived++;
      payloads.onPart(part);
      for (const c of part.changes) if (c.assignment?.secret?.data?.length) this.clearPayloads++;
      const m = parts.add(part);
      if (!m) return;
      for (const c of m.changes) {
        const s = c.assignment?.secret;
        if (s && c.action !== 'REMOVE') s.data = payloads.open(s);
      }
      this.messages.push(m);
      if (m.type === 'COMPLETE') {
        this.state.tasks.clear();
        this.state.secrets.clear();
      }
      for (const c of m.changes) {
        const a = c.assignment!;
        if (a.secret) {
          const key = versionKey(a.secret.id, a.secret.version);
          if (c.action === 'REMOVE') this.state.secrets.delete(key);
          else {
            this.received.push(Buffer.from(a.secret.data));
            this.state.secrets.set(key, Buffer.from(a.secret.data));
          }
        } else if (a.task) {
          if (c.action === 'REMOVE') this.state.tasks.delete(a.task.id);
          else this.state.tasks.set(a.task.id, { name: a.task.name, serviceName: a.task.serviceName, secrets: a.task.secrets });
        }
      }
      this.notify();
    });
    stream.on('status', (s: grpc.StatusObject) => {
      if (this.stream !== stream) return; // a stream closed with closeStream(): its end is not the current one's
      this.streamStatus = s;
      this.notify();
    });
    stream.on('error', () => { /* the status event carries it */ });
  }

  closeStream(): void {
    this.stream?.cancel();
    this.stream = undefined;
  }

  /** Heartbeats sent and not answered yet. */
  heartbeatsInFlight = 0;

  heartbeat(): Promise<{ periodMs: number }> {
    this.heartbeatsInFlight++;
    return new Promise<{ periodMs: number }>((resolve, reject) =>
      this.client.Heartbeat({}, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res as { periodMs: number }))))
      .finally(() => { this.heartbeatsInFlight--; });
  }

  startHeartbeats(periodMs: number): void {
    this.stopHeartbeats();
    void this.heartbeat().catch(() => undefined);
    this.heartbeatTimer = setInterval(() => void this.heartbeat().catch(() => undefined), periodMs);
  }

  stopHeartbeats(): void {
    clearInterval(this.heartbeatTimer);
  }

  reportTask(taskId: string, state: 'ready' | 'removed' | 'failed'): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.UpdateTaskStatus({ updates: [{ taskId, state, message: '' }] }, { deadline: Date.now() + 5000 }, (err) => (err ? reject(err) : resolve())));
  }

  /** Resolves once `check()` holds: checked at once and on every message or status (waitUntil's wake). */
  until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    return waitUntil(`node ${this.creds.nodeId}: ${what}`, check, timeoutMs, { wake: (onEvent) => this.subscribe(onEvent) }).then(() => undefined);
  }

  /** Calls onEvent on every message or status of the stream; returns how to stop. */
  private subscribe(onEvent: () => void): () => void {
    this.waiters.push(onEvent);
    return () => { this.waiters = this.waiters.filter((w) => w !== onEvent); };
  }

  taskNames(): string[] {
    return [...this.state.tasks.values()].map((t) => t.name).sort();
  }

  /** The payload of a secret version the node currently holds. */
  secret(secretId: string, version: number): Buffer | undefined {
    return this.state.secrets.get(versionKey(secretId, version));
  }

  /** Sequence numbers chain without gaps: each message applies to the previous one's result. */
  sequenceIsContinuous(): boolean {
    let last = 0;
    for (const m of this.messages) {
      if (m.type === 'COMPLETE') last = m.resultsIn;
      else if (m.appliesTo !== last) return false;
      else last = m.resultsIn;
    }
    return true;
  }

  close(): void {
    this.stopHeartbeats();
    this.closeStream();
    this.client.close();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
