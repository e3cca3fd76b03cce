// A running manager plus test nodes, for the dispatcher tests: `hush manager init` + `run` with a
// short heartbeat period, a Control client on the unix socket, and TestNodes that join with real
// CSRs, open their Assignments stream and heartbeat. close() stops every node and the manager and
// removes the state directory.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { AssignmentsMessage__Output } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import type { ControlClient } from '../../proto/gen/hush/v1/Control.js';
import { hushOk, initManager, startManager, type InitializedManager, type RunningManager } from './manager.js';
import { controlUnixClient, unary } from './grpc.js';
import { TestNode } from './node.js';
import { waitUntil } from '../../common/testing/wait.js';

export interface NodeJson {
  id: string;
  hostname: string;
  role: string;
  state: string;
  availability: string;
  labels: Record<string, string>;
}

export interface TaskJson {
  id: string;
  name: string;
  serviceId: string;
  serviceName: string;
  slot: number;
  nodeId: string;
  node: string;
  desiredState: string;
  state: string;
  message: string;
}

/** One change of an Assignments message, flattened for assertions. */
export interface FlatChange {
  /** Index of the message in node.messages. */
  message: number;
  type: 'COMPLETE' | 'INCREMENTAL';
  action: 'UPDATE' | 'REMOVE';
  kind: 'task' | 'secret';
  id: string;
  /** Secret version (0 for a task). */
  version: number;
  /** Task name or secret name. */
  name: string;
  /** Secret payload (UPDATE of a secret), else empty. */
  data: Buffer;
  /** Task: its secret references as `${secretId}@${version}`. */
  refs: string[];
}

export function flatten(messages: readonly AssignmentsMessage__Output[], from = 0): FlatChange[] {
  const out: FlatChange[] = [];
  for (let i = from; i < messages.length; i++) {
    const m = messages[i];
    for (const c of m.changes) {
      const a = c.assignment!;
      if (a.secret) {
        out.push({ message: i, type: m.type, action: c.action, kind: 'secret', id: a.secret.id, version: a.secret.version, name: a.secret.name, data: Buffer.from(a.secret.data), refs: [] });
      } else if (a.task) {
        out.push({ message: i, type: m.type, action: c.action, kind: 'task', id: a.task.id, version: 0, name: a.task.name, data: Buffer.alloc(0), refs: a.task.secrets.map((r) => `${r.secretId}@${r.version}`) });
      }
    }
  }
  return out;
}

/** Whether any payload the node was ever sent contains these bytes. */
export function everReceived(node: TestNode, bytes: Buffer | string): boolean {
  const needle = Buffer.from(bytes);
  return node.received.some((b) => b.includes(needle));
}

/**
 * Resolves with performance.now() at the moment check() first holds on the node (checked on every
 * message or status). Register it before the action being timed.
 */
export function arrival(node: TestNode, what: string, check: () => boolean, timeoutMs = 10_000): Promise<number> {
  return node.until(what, check, timeoutMs).then(() => performance.now());
}

/** Changes as short strings, for assertion messages. */
export function describeChanges(changes: FlatChange[]): string {
  return JSON.stringify(changes.map((c) => `${c.type}:${c.action}:${c.kind}:${c.name}${c.kind === 'secret' ? `@${c.version}` : ''}`));
}

/** The id of the node's task of that service, if it holds one. */
export const taskOf = (node: TestNode, serviceName: string) => [...node.state.tasks.entries()].find(([, t]) => t.serviceName === serviceName)?.[0];

/** How many of the node's Assignments sessions the manager has logged closed. */
export const sessionsClosed = (c: TestCluster, node: TestNode) => c.run.logs.filter((l) => l.msg === 'node session closed' && l.nodeId === node.id).length;

let fences = 0;

/**
 * Proves, with no fixed wait, that nothing more is on its way to these nodes from what the test has
 * done so far: a service (no secrets) constrained to each node is created, and its task must reach
 * the node. A node's messages come on one ordered stream, and the manager applies changes in commit
 * order (the orchestrator's own included), so whatever an earlier change sends a node arrives before
 * its fence; the fence's message must hold the fence alone. The fences are then removed again.
 * Returns, for each node, what it was sent from its mark up to its fence: how many messages, which changes.
 */
export async function fence(c: TestCluster, marks: Array<[TestNode, number]>, timeoutMs = 30_000): Promise<Array<{ messages: number; changes: FlatChange[] }>> {
  const names = marks.map(() => `fence-${++fences}`);
  for (const [i, [node]] of marks.entries()) await unary(c.control, 'CreateService', { name: names[i], constraints: [`node.id==${node.id}`] });
  const before: Array<{ messages: number; changes: FlatChange[] }> = [];
  for (const [i, [node, mark]] of marks.entries()) {
    await node.until(`${names[i]} placed on it`, () => taskOf(node, names[i]) !== undefined, timeoutMs);
    const at = node.messages.findIndex((m, j) => j >= mark && m.changes.some((ch) => ch.assignment?.task?.serviceName === names[i]));
    const own = flatten(node.messages.slice(0, at + 1), at);
    assert.deepEqual(own.map((x) => [x.action, x.kind, x.name]), [['UPDATE', 'task', `${names[i]}.1`]], `the fence came with something else: ${describeChanges(own)}`);
    before.push({ messages: at - mark, changes: flatten(node.messages.slice(0, at), mark) });
  }
  for (const name of names) await unary(c.control, 'RemoveService', { ref: name });
  for (const [i, [node]] of marks.entries()) await node.until(`${names[i]} removed from it`, () => taskOf(node, names[i]) === undefined, timeoutMs);
  return before;
}

export interface TestCluster {
  m: InitializedManager;
  run: RunningManager;
  /** 127.0.0.1:PORT of the TLS listener. */
  addr: string;
  heartbeatPeriodMs: number;
  control: ControlClient;
  nodes: TestNode[];
  /** Joins (real key, CSR, certificate), opens the stream and heartbeats; waits until the node is ready. */
  join(hostname: string, labels?: Record<string, string>, opts?: { connect?: boolean }): Promise<TestNode>;
  /** `hush ARGS` against this manager; must exit 0; returns stdout. */
  hush(args: string[], input?: string | Buffer): Promise<string>;
  /** `hush ARGS --format json`, one object per line. */
  hushJson<T>(args: string[]): Promise<T[]>;
  nodeState(id: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startCluster(opts: { heartbeatPeriodMs?: number } = {}): Promise<TestCluster> {
  const heartbeatPeriodMs = opts.heartbeatPeriodMs ?? 500;
  const m = await initManager();
  let run: RunningManager | undefined;
  let control: ControlClient | undefined;
  const nodes: TestNode[] = [];
  const close = async () => {
    for (const n of nodes) n.close();
    control?.close();
    await run?.stop();
    m.remove();
  };
  try {
    run = await startManager(m.stateDir, { env: { ...m.env, HUSH_HEARTBEAT_PERIOD: `${heartbeatPeriodMs}ms` } });
    control = controlUnixClient(m.stateDir);
  } catch (e) {
    await close();
    throw e;
  }
  const addr = `127.0.0.1:${run.port}`;
  const ctl = control;
  const listNodes = async () => (await unary<{ nodes: NodeJson[] }>(ctl, 'ListNodes', {})).nodes;
  const nodeState = async (id: string) => (await listNodes()).find((n) => n.id === id)?.state;
  const hush = async (args: string[], input?: string | Buffer) => (await hushOk(args, { env: m.env, input })).stdout;
  return {
    m, run, addr, heartbeatPeriodMs, control: ctl, nodes, nodeState, close, hush,
    async hushJson<T>(args: string[]) {
      return (await hush([...args, '--format', 'json'])).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
    },
    async join(hostname, labels = {}, o = {}) {
      const node = await TestNode.join(addr, m.workerToken, hostname, labels);
      nodes.push(node);
      if (o.connect === false) return node;
      node.open();
      node.startHeartbeats(Math.max(50, Math.floor(heartbeatPeriodMs / 4)));
      await waitUntil(`node ${hostname} ready`, async () => (await nodeState(node.id)) === 'ready', 30_000, { errors: 'fail' });
      await node.until(`${hostname}: first COMPLETE`, () => node.messages.length > 0, 30_000);
      return node;
    },
  };
}
