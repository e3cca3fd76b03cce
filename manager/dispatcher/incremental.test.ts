// The Dispatcher's incremental diffs against the full computation: a seeded random sequence of
// cluster changes goes through the real store and ClusterView; after every step, what each
// session has sent (applied to a model of its node) must equal computeAssignments() for the node,
// and no message may ever carry a secret the node is not entitled to when it is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { pino } from 'pino';
import { openSqliteStore } from '../store/sqlite.js';
import type { Op, Store } from '../store/store.js';
import { ClusterView } from '../state/view.js';
import { NodeRegistry } from '../nodes/registry.js';
import {
  encode, keys, type NodeRecord, type SecretRecord, type SecretReferenceRecord, type ServiceRecord, type TaskRecord,
} from '../state/records.js';
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import { seededRandom as prng } from '../../common/testing/seeded-random.js';
import { Dispatcher } from './dispatcher.js';
import { computeAssignments, type NodeAssignments } from './assignments.js';
import { versionKey } from '../../common/version-key.js';

const NODES = ['n1', 'n2', 'n3'];
const VALUE_MARK = 'SECRET-VALUE-';
const payload = (id: string, version: number) => Buffer.from(`${VALUE_MARK}${id}@${version}`);


type Rand = () => number;
const pick = <T>(r: Rand, xs: T[]): T | undefined => (xs.length ? xs[Math.floor(r() * xs.length)] : undefined);

type TaskMsg = NonNullable<NonNullable<AssignmentsMessage['changes']>[number]['assignment']>['task'];

/** One node as its agent would see it, from the session's messages; checks every message. */
class NodeModel {
  readonly tasks = new Map<string, NonNullable<TaskMsg>>();
  readonly secrets = new Map<string, Buffer>();
  seq = 0;
  messages = 0;
  secretsAdded = 0;
  secretsRemoved = 0;

  constructor(readonly nodeId: string) {}

  apply(m: AssignmentsMessage, entitled: NodeAssignments): void {
    const where = `node ${this.nodeId} message ${this.messages}`;
    if (this.messages === 0) assert.equal(m.type, 'COMPLETE', `${where}: the first message is COMPLETE`);
    else {
      assert.equal(m.type, 'INCREMENTAL', where);
      assert.ok(m.changes?.length, `${where}: an INCREMENTAL carries changes`);
    }
    assert.equal(Number(m.appliesTo), this.seq, `${where}: applies_to continues results_in`);
    assert.equal(Number(m.resultsIn), this.seq + 1, where);
    this.seq += 1;
    this.messages += 1;
    let phase = 0;
    for (const c of m.changes ?? []) {
      const task = c.assignment?.task;
      const secret = c.assignment?.secret;
      // Secrets added, tasks updated, tasks removed, secrets removed: in this order.
      const p = secret ? (c.action === 'UPDATE' ? 0 : 3) : (c.action === 'UPDATE' ? 1 : 2);
      assert.ok(p >= phase, `${where}: changes out of order`);
      phase = p;
      if (secret) {
        const key = versionKey(secret.id!, Number(secret.version));
        if (c.action === 'UPDATE') {
          assert.ok(!this.secrets.has(key), `${where}: ${key} sent twice`);
          assert.ok(entitled.secrets.has(key), `${where}: ${key} sent to a node not entitled to it`);
          assert.deepEqual(Buffer.from(secret.data as Uint8Array), payload(secret.id!, Number(secret.version)), where);
          this.secrets.set(key, Buffer.from(secret.data as Uint8Array));
          this.secretsAdded += 1;
        } else {
          assert.ok(this.secrets.delete(key), `${where}: REMOVE of ${key}, which the node does not have`);
          this.secretsRemoved += 1;
          for (const t of this.tasks.values()) assert.ok(!refs(t).has(key), `${where}: ${key} removed while task ${t.id} uses it`);
        }
      } else if (task) {
        if (c.action === 'UPDATE') {
          for (const k of refs(task)) assert.ok(this.secrets.has(k), `${where}: task ${task.id} before its secret ${k}`);
          assert.deepEqual(task, entitled.tasks.get(task.id!), `${where}: task ${task.id} as entitled`);
          this.tasks.set(task.id!, task);
        } else assert.ok(this.tasks.delete(task.id!), `${where}: REMOVE of task ${task.id}, which the node does not have`);
      }
    }
    // The node never holds a secret none of its tasks references.
    const used = new Set([...this.tasks.values()].flatMap((t) => [...refs(t)]));
    for (const k of this.secrets.keys()) assert.ok(used.has(k), `${where}: ${k} kept without a task using it`);
  }

  assertEquals(entitled: NodeAssignments, step: string): void {
    assert.deepEqual(new Map([...this.tasks].sort()), new Map([...entitled.tasks].sort()), `${step}: node ${this.nodeId} tasks`);
    assert.deepEqual([...this.secrets.keys()].sort(), [...entitled.secrets.keys()].sort(), `${step}: node ${this.nodeId} secrets`);
  }
}

function refs(t: NonNullable<TaskMsg>): Set<string> {
  return new Set((t.secrets ?? []).map((r) => versionKey(r.secretId!, Number(r.version))));
}

/**
 * Stands in for a grpc-js server stream; sometimes reports back-pressure, drained on the next turn.
 * A failed check is kept for the test to rethrow (the session would swallow it and cut the stream).
 */
class FakeStream extends EventEmitter {
  cancelled = false;
  error?: unknown;
  constructor(private readonly onWrite: (m: AssignmentsMessage) => void, private readonly r: Rand) {
    super();
  }

  write(m: AssignmentsMessage): boolean {
    try {
      this.onWrite(m);
    } catch (e) {
      this.error ??= e;
    }
    if (this.r() < 0.2) {
      setImmediate(() => this.emit('drain'));
      return false;
    }
    return true;
  }
}

/** The cluster's records as the test changes them: every step is one store txn. */
class Cluster {
  private n = 0;
  constructor(private readonly view: ClusterView, private readonly r: Rand) {}

  private id(prefix: string): string {
    return `${prefix}${++this.n}`;
  }

  private secrets(): SecretRecord[] {
    return [...this.view.secrets.values()];
  }

  private services(): ServiceRecord[] {
    return [...this.view.services.values()];
  }

  tasks(): TaskRecord[] {
    return [...this.view.tasks.values()];
  }

  private node(): string {
    return this.r() < 0.1 ? '' : pick(this.r, NODES)!;
  }

  /** One random change, as store ops (none if it does not apply now). */
  change(): { what: string; ops: Op[] } {
    const r = this.r;
    const now = Date.now();
    const x = r();
    if (x < 0.1 || this.view.secrets.size === 0) {
      const id = this.id('s');
      return { what: `create secret ${id}`, ops: [put(keys.secret(id), { id, name: `sec-${id}`, labels: {}, createdAtMs: now, updatedAtMs: now, versions: [{ version: 1, createdAtMs: now, size: 8 }] } satisfies SecretRecord)] };
    }
    if (x < 0.2) {
      const s = pick(r, this.secrets())!;
      const version = s.versions[s.versions.length - 1].version + 1;
      return { what: `rotate ${s.id} to ${version}`, ops: [put(keys.secret(s.id), { ...s, versions: [...s.versions, { version, createdAtMs: now, size: 8 }] })] };
    }
    if (x < 0.24) {
      const s = pick(r, this.secrets().filter((y) => y.versions.length > 1));
      if (!s) return { what: 'nothing', ops: [] };
      const drop = pick(r, s.versions.slice(0, -1))!.version;
      return { what: `drop ${s.id}@${drop}`, ops: [put(keys.secret(s.id), { ...s, versions: s.versions.filter((v) => v.version !== drop) })] };
    }
    if (x < 0.26) {
      const s = pick(r, this.secrets())!;
      return { what: `delete secret ${s.id}`, ops: [del(keys.secret(s.id))] };
    }
    if (x < 0.4) return this.createService(now);
    if (x < 0.55) return this.editService(now);
    if (x < 0.6) {
      const s = pick(r, this.services());
      if (!s) return { what: 'nothing', ops: [] };
      return { what: `remove service ${s.id} without its tasks`, ops: [del(keys.service(s.id))] };
    }
    return this.changeTask(now);
  }

  private createService(now: number): { what: string; ops: Op[] } {
    const id = this.id('v');
    const service: ServiceRecord = {
      id, name: `svc-${id}`, mode: 'replicated', replicas: 1, secrets: this.randomRefs(), constraints: [], labels: {}, createdAtMs: now, updatedAtMs: now,
    };
    const tasks = Array.from({ length: 1 + Math.floor(this.r() * 3) }, (_, i) => this.task(service, i + 1, now));
    return { what: `create service ${id} with ${tasks.length} tasks`, ops: [put(keys.service(id), service), ...tasks.map((t) => put(keys.task(t.id), t))] };
  }

  private task(service: { id: string; name: string }, slot: number, now: number): TaskRecord {
    const id = this.id('t');
    return { id, serviceId: service.id, serviceName: service.name, slot, nodeId: this.node(), desiredState: 'running', state: 'assigned', message: '', createdAtMs: now, stateSinceMs: now };
  }

  private randomRefs(): SecretReferenceRecord[] {
    return Array.from({ length: Math.floor(this.r() * 4) }, () => this.ref()).filter((x): x is SecretReferenceRecord => x !== undefined);
  }

  private ref(): SecretReferenceRecord | undefined {
    const s = pick(this.r, this.secrets());
    if (!s) return undefined;
    const ref: SecretReferenceRecord = { secretId: s.id, secretName: s.name, target: pick(this.r, ['a', 'b', 'c'])!, uid: 0, gid: 0, mode: this.r() < 0.5 ? 0o400 : 0o440 };
    if (this.r() < 0.3) ref.version = pick(this.r, s.versions)!.version;
    return ref;
  }

  private editService(now: number): { what: string; ops: Op[] } {
    const r = this.r;
    const s = pick(r, this.services());
    if (!s) return { what: 'nothing', ops: [] };
    const secrets = [...s.secrets];
    const y = r();
    let what: string;
    if (y < 0.3) {
      const ref = this.ref();
      if (ref) secrets.push(ref);
      what = 'add a reference';
    } else if (y < 0.55) {
      secrets.splice(Math.floor(r() * secrets.length), 1);
      what = 'drop a reference';
    } else if (y < 0.8 && secrets.length) {
      const i = Math.floor(r() * secrets.length);
      const pinned = this.view.secrets.get(secrets[i].secretId);
      const { version: _, ...unpinned } = secrets[i];
      secrets[i] = pinned && r() < 0.5 ? { ...unpinned, version: pick(r, pinned.versions)!.version } : unpinned;
      what = 'pin or unpin a reference';
    } else if (y < 0.9 && secrets.length) {
      // One field at a time: each must reach the node on its own.
      const i = Math.floor(r() * secrets.length);
      const field = pick(r, ['target', 'uid', 'gid', 'mode'] as const)!;
      const ref = secrets[i];
      secrets[i] = field === 'target' ? { ...ref, target: `${ref.target}x` } : { ...ref, [field]: ref[field] ^ 0o040 };
      what = `change the ${field} of a reference`;
    } else {
      const ops: Op[] = [put(keys.service(s.id), { ...s, name: `${s.name}r`, updatedAtMs: now })];
      return { what: `rename service ${s.id}`, ops };
    }
    return { what: `service ${s.id}: ${what}`, ops: [put(keys.service(s.id), { ...s, secrets, updatedAtMs: now })] };
  }

  private changeTask(now: number): { what: string; ops: Op[] } {
    const r = this.r;
    const y = r();
    const t = pick(r, this.tasks());
    if (y < 0.25 || !t) {
      const s = pick(r, this.services()) ?? { id: 'v-gone', name: 'gone' };
      const task = this.task(s, 1 + Math.floor(r() * 5), now);
      return { what: `add task ${task.id} to ${s.id} on ${task.nodeId || '(none)'}`, ops: [put(keys.task(task.id), task)] };
    }
    if (y < 0.55) {
      const nodeId = this.node();
      return { what: `move task ${t.id} from ${t.nodeId || '(none)'} to ${nodeId || '(none)'}`, ops: [put(keys.task(t.id), { ...t, nodeId })] };
    }
    if (y < 0.7) {
      const desiredState = t.desiredState === 'running' ? 'shutdown' : 'running';
      return { what: `task ${t.id} desired ${desiredState}`, ops: [put(keys.task(t.id), { ...t, desiredState })] };
    }
    if (y < 0.85) return { what: `task ${t.id} reported`, ops: [put(keys.task(t.id), { ...t, state: t.state === 'ready' ? 'assigned' : 'ready', stateSinceMs: now })] };
    return { what: `delete task ${t.id}`, ops: [del(keys.task(t.id))] };
  }
}

const put = (key: string, record: unknown): Op => ({ type: 'put', key, value: encode(record) });
const del = (key: string): Op => ({ type: 'delete', key });

interface Stream {
  nodeId: string;
  stream: FakeStream;
  model: NodeModel;
  open: boolean;
}

async function runSeed(seed: number, steps: number): Promise<{ messages: number; delivered: number }> {
  const r = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'hush-dispatch-incr-'));
  const store: Store = openSqliteStore(join(dir, 'm.db'));
  const view = await ClusterView.open(store, (e) => { throw e; });
  const logLines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => { logLines.push(line); } });
  // Some reads fail once with NOT_FOUND, as if the version had just gone: the session must recompute.
  const failedOnce = new Set<string>();
  const readPayload = async (id: string, version: number) => {
    const key = versionKey(id, version);
    if (!failedOnce.has(key) && r() < 0.2) {
      failedOnce.add(key);
      throw Object.assign(new Error(`secret ${id} has no version ${version}`), { code: 5 });
    }
    return payload(id, version);
  };
  const dispatcher = new Dispatcher(store, view, new NodeRegistry(store), readPayload, log, { periodMs: 60_000, missed: 3 });
  const internals = dispatcher as unknown as {
    open(c: unknown, w: { nodeId: string; serial: string }): Promise<void>;
    sessions: Map<string, Set<{ flushing: boolean }>>;
  };
  // The tasks this test is revoking early: the node must already be treated as rid of them.
  const revoking = new Set<string>();
  const entitled = (nodeId: string) => computeAssignments(view, nodeId, revoking);
  const streams: Stream[] = [];
  const cluster = new Cluster(view, r);
  let step = 'setup';

  const commit = async (ops: Op[]) => {
    const res = await store.txn([], ops);
    assert.ok(res.ok);
    await view.waitFor(res.revision);
  };
  /** Until every session has sent all it had to (no flush running, on two turns in a row). */
  const settle = async () => {
    let quiet = 0;
    for (let i = 0; i < 10_000 && quiet < 2; i++) {
      await tick();
      const busy = [...internals.sessions.values()].some((set) => [...set].some((s) => s.flushing));
      quiet = busy ? 0 : quiet + 1;
    }
    assert.equal(quiet, 2, `${step}: sessions did not settle`);
  };
  const check = () => {
    for (const s of streams) {
      if (s.stream.error) throw s.stream.error;
      if (s.open) s.model.assertEquals(entitled(s.nodeId), step);
    }
  };
  const open = async (nodeId: string) => {
    const model = new NodeModel(nodeId);
    const stream = new FakeStream((m) => model.apply(m, entitled(nodeId)), r);
    streams.push({ nodeId, stream, model, open: true });
    await internals.open(stream, { nodeId, serial: '01' });
    await settle();
  };

  try {
    const now = Date.now();
    await commit(NODES.map((id) => put(keys.node(id), {
      id, role: 'worker', hostname: id, labels: {}, certSerial: '01', certNotAfterMs: now + 1e9, state: 'ready', availability: 'active', createdAtMs: now,
    } satisfies NodeRecord)));
    dispatcher.start();
    await open('n1');
    await open('n1');
    await open('n2');
    await settle();
    check();
    for (let i = 0; i < steps; i++) {
      if (i === Math.floor(steps / 4)) await open('n3');
      if (i === Math.floor(steps / 2)) await open('n2');
      if (i === Math.floor((3 * steps) / 4)) {
        // A node's first session goes away; the others go on.
        streams[0].open = false;
        streams[0].stream.emit('cancelled');
      }
      if (r() < 0.1) {
        // As ServiceAdmin.remove does: revoke early, then the txn commits (or fails), then undo.
        const ids = [...new Set([pick(r, cluster.tasks()), pick(r, cluster.tasks())].filter((t) => t).map((t) => t!.id))];
        const fails = r() < 0.4;
        step = `step ${i}: revoke early ${ids.join(',')} (txn ${fails ? 'fails' : 'commits'})`;
        for (const id of ids) if (view.tasks.get(id)?.nodeId) revoking.add(id);
        const undo = dispatcher.revokeEarly(ids);
        await settle();
        check();
        if (!fails && ids.length) await commit(ids.map((id) => del(keys.task(id))));
        undo();
        revoking.clear();
        await settle();
        check();
        continue;
      }
      const a = cluster.change();
      let ops = a.ops;
      step = `step ${i}: ${a.what}`;
      if (r() < 0.25) {
        // Two changes in one txn: one change batch for the listeners.
        const b = cluster.change();
        const taken = new Set(ops.map((o) => (o as { key: string }).key));
        if (b.ops.every((o) => !taken.has((o as { key: string }).key))) {
          ops = [...ops, ...b.ops];
          step += ` + ${b.what}`;
        }
      }
      if (ops.length) await commit(ops);
      await settle();
      check();
    }
    // The audit: one line per secret version delivered or revoked, per session; never a value.
    const audit = logLines.map((l) => JSON.parse(l) as { audit?: string; tasks?: string[] });
    const sum = (f: (m: NodeModel) => number) => streams.reduce((n, s) => n + f(s.model), 0);
    for (const line of logLines) assert.ok(!line.includes(VALUE_MARK), 'no secret value in a log line');
    const delivered = audit.filter((l) => l.audit === 'secret-delivered');
    for (const l of delivered) assert.ok(l.tasks && l.tasks.length > 0, 'a delivered secret names the tasks using it');
    assert.equal(delivered.length, sum((m) => m.secretsAdded), 'one audit line per secret delivered');
    assert.equal(audit.filter((l) => l.audit === 'secret-revoked').length, sum((m) => m.secretsRemoved), 'one audit line per secret revoked');
    return { messages: sum((m) => m.messages), delivered: delivered.length };
  } finally {
    dispatcher.stop();
    view.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`incremental diffs equal the full computation after every step (seed ${seed})`, async () => {
    const { messages, delivered } = await runSeed(seed, 400);
    assert.ok(messages > 100, `only ${messages} messages: the sequence exercises too little`);
    assert.ok(delivered > 50, `only ${delivered} deliveries`);
  });
}
