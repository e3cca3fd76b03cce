// Service names and the paths of their tasks on a node's mount (issue 8, item 1): a task is
// `/run/secrets/<service>.<slot>`, a service's alias or global task is `/run/secrets/<service>`, so a
// service name with a dot (`web.1`) could take the path of another service's task. Through the real
// service admin layer, store and orchestrator, then through the agent's view of what each node is sent.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { openSqliteStore } from '../manager/store/sqlite.js';
import type { Store } from '../manager/store/store.js';
import { HushError } from '../common/errors.js';
import { newId } from '../common/ids.js';
import { seededRandom } from '../common/testing/seeded-random.js';
import { encode, keys, type NodeRecord, type ServiceRecord, type TaskRecord } from '../manager/state/records.js';
import { ClusterView } from '../manager/state/view.js';
import { SecretAdmin } from '../manager/secrets/admin.js';
import { OrchestratorLoop } from '../manager/orchestrator/loop.js';
import { computeAssignments, type NodeAssignments } from '../manager/dispatcher/assignments.js';
import { NodeSecrets } from '../agent/secrets/node-secrets.js';
import { describeTasks } from '../agent/status.js';
import { ServiceAdmin } from '../manager/services/admin.js';

let dir: string;
let store: Store;
let view: ClusterView;
let services: ServiceAdmin;
let secrets: SecretAdmin;
let loop: OrchestratorLoop | undefined;
let logLines: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hush-names-'));
  store = openSqliteStore(join(dir, 'manager.db'));
  view = await ClusterView.open(store, (e) => { throw e; });
  services = new ServiceAdmin(store, view);
  secrets = new SecretAdmin(store, randomBytes(32), (id, rev) => services.referencing(id, rev));
  logLines = [];
});
afterEach(async () => {
  loop?.stop();
  loop = undefined;
  view.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function addNodes(n: number): Promise<string[]> {
  const nodes: NodeRecord[] = Array.from({ length: n }, (_, i) => ({
    id: newId(), role: 'worker', hostname: `n${i + 1}`, labels: {}, certSerial: randomBytes(16).toString('hex'),
    certNotAfterMs: Date.now() + 86_400_000, state: 'ready', availability: 'active', createdAtMs: Date.now(),
  }));
  const r = await store.txn([], nodes.map((node) => ({ type: 'put' as const, key: keys.node(node.id), value: encode(node) })));
  await view.waitFor(r.revision);
  return nodes.map((node) => node.id);
}

/** Runs the orchestrator over what the store holds now, until it has nothing left to do. */
async function reconciled(): Promise<void> {
  if (!loop) {
    loop = new OrchestratorLoop(store, view, pino({ level: 'info' }, { write: (line: string) => { logLines.push(line); } }));
    loop.start();
  } else {
    loop.kick();
  }
  await loop.settled();
}

/** The node's view of what it is sent, as the agent builds it (payloads made up: only paths matter here). */
function agentView(sent: NodeAssignments): NodeSecrets {
  const node = new NodeSecrets();
  node.replaceAll(
    [...sent.tasks.values()].map((t) => ({ id: t.id, name: t.name, serviceName: t.serviceName, files: t.secrets })),
    [...sent.secrets.values()].map((s) => ({ id: s.id, name: s.name, version: s.version, data: Buffer.from(`v-${s.id}@${s.version}`), createdAtMs: s.createdAtMs })),
  );
  return node;
}

/**
 * Every path a node's mount could serve, with the services claiming it: each task's name, and the name of
 * each service with a task there (its alias, shown while it has one task there). One service per path.
 */
function assertOneServicePerPath(sent: NodeAssignments, what: string): void {
  const claims = new Map<string, Set<string>>();
  const claim = (path: string, serviceId: string) => claims.set(path, (claims.get(path) ?? new Set()).add(serviceId));
  const tasksByName = new Map<string, string[]>();
  for (const t of sent.tasks.values()) {
    claim(t.name, t.serviceId);
    claim(t.serviceName, t.serviceId);
    tasksByName.set(t.name, [...(tasksByName.get(t.name) ?? []), t.id]);
  }
  for (const [path, owners] of claims) assert.equal(owners.size, 1, `${what}: /${path} is claimed by ${owners.size} services`);
  for (const [name, ids] of tasksByName) assert.equal(ids.length, 1, `${what}: ${ids.length} tasks named ${name}`);
}

/** The rule, written out independently of the manager's pattern. */
function validName(name: string): boolean {
  const alnum = (c: string) => /[A-Za-z0-9]/.test(c);
  return name.length >= 1 && name.length <= 63 && alnum(name[0]) && alnum(name[name.length - 1])
    && [...name].every((c) => alnum(c) || c === '-' || c === '_');
}

const invalidName = (e: unknown) => e instanceof HushError && e.code === status.INVALID_ARGUMENT
  && /^invalid service name "[^\n]*": at most 63 letters, digits, '-' and '_', .*no '\.'/.test(e.message) && !e.message.includes('\n');

test('random service names with dots and digits: only names without a dot are accepted, and no two tasks or aliases on any node share a path (as the manager sends them and in the agent\'s view)', { timeout: 120_000 }, async () => {
  const nodes = await addNodes(3);
  await secrets.create('s', Buffer.from('s-value'), {});
  const seed = 8_1_2026;
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const accepted: string[] = [];
  let refused = 0;
  let dotted = 0;
  const randomName = (): string => {
    const r = random();
    // Names made to take another service's task path: `<accepted>.<slot>` and a replicated `<x>` under `<x>.<n>`.
    if (r < 0.3 && accepted.length) return `${pick(accepted)}.${1 + Math.floor(random() * 3)}`;
    if (r < 0.35) return 'x'.repeat(60 + Math.floor(random() * 6));
    const length = 1 + Math.floor(random() * 8);
    return Array.from({ length }, () => pick('abcw0129-_.'.split(''))).join('');
  };
  for (let i = 0; i < 200; i++) {
    const name = randomName();
    if (name.includes('.')) dotted++;
    const global = random() < 0.4;
    const input = { name, mode: global ? 'global' : 'replicated', replicas: global ? 0 : 1 + Math.floor(random() * 3), secrets: [{ source: 's', target: 'pw' }], constraints: [], labels: {} };
    const what = `seed ${seed}, service ${i} ${JSON.stringify(name)} (${input.mode})`;
    if (!validName(name)) {
      await assert.rejects(services.create(input), invalidName, what);
      refused++;
    } else if (accepted.includes(name)) {
      await assert.rejects(services.create(input), (e: unknown) => e instanceof HushError && e.code === status.ALREADY_EXISTS, what);
    } else {
      await services.create(input);
      accepted.push(name);
    }
  }
  assert.ok(dotted > 60 && refused >= dotted && accepted.length > 40, `the names exercise the rule (${dotted} with a dot, ${refused} refused, ${accepted.length} accepted)`);
  assert.deepEqual(services.list().map((s) => s.name).sort(), [...accepted].sort());
  for (const s of services.list()) assert.ok(!s.name.includes('.'), `stored service ${s.name} has no dot`);

  await reconciled();
  // Across the cluster: a task name belongs to one service only, and is never a service's name but its own.
  const owner = new Map<string, string>();
  const serviceNames = new Map(services.list().map((s) => [s.name, s.id]));
  for (const t of services.listTasks()) {
    const name = t.slot > 0 ? `${t.serviceName}.${t.slot}` : t.serviceName;
    assert.ok(owner.get(name) === undefined || owner.get(name) === t.serviceId, `task name ${name} of two services`);
    owner.set(name, t.serviceId);
    const alias = serviceNames.get(name);
    assert.ok(alias === undefined || alias === t.serviceId, `task ${name} takes the path of service ${name}`);
  }
  let sentTasks = 0;
  for (const nodeId of nodes) {
    const sent = computeAssignments(view, nodeId);
    sentTasks += sent.tasks.size;
    assertOneServicePerPath(sent, `seed ${seed}, node ${nodeId}`);
    const node = agentView(sent);
    assert.deepEqual(node.nameConflicts(), [], 'the agent sees no path claimed twice');
    for (const t of node.taskList()) assert.equal(node.unservedReason(t), undefined, `task ${t.name} is served under its name`);
    const paths = describeTasks(node, '/run/secrets').flatMap((t) => t.files.map((f) => f.path));
    assert.equal(new Set(paths).size, paths.length, '`hush agent status` lists every path once');
    assert.equal(paths.length, sent.tasks.size, 'one file per task, every one listed with its path');
    node.wipe();
  }
  assert.ok(sentTasks > accepted.length, `tasks were placed (${sentTasks})`);
});

test('a service stored with a dot by an older manager is never placed nor sent; its tasks say why, and the manager logs it once', { timeout: 60_000 }, async () => {
  const [n1, n2] = await addNodes(2);
  const s = await secrets.create('s', Buffer.from('s-value'), {});
  const glob = await secrets.create('glob', Buffer.from('glob-value'), {});
  const web = await services.create({ name: 'web', mode: '', replicas: 1, secrets: [{ source: 's', target: 'pw' }], constraints: [`node.id==${n1}`], labels: {} });
  await reconciled();
  // What an older manager could have stored: a global `web.1` and a replicated `web.2`, with tasks already placed.
  const now = Date.now();
  const old = (name: string, mode: 'global' | 'replicated'): ServiceRecord => ({
    id: newId(), name, mode, replicas: mode === 'global' ? 0 : 1, constraints: [], labels: {}, createdAtMs: now, updatedAtMs: now,
    secrets: [{ secretId: glob.id, secretName: 'glob', target: 'pw', uid: 0, gid: 0, mode: 0o400 }],
  });
  const g = old('web.1', 'global');
  const r = old('web.2', 'replicated');
  const task = (service: ServiceRecord, slot: number, nodeId: string): TaskRecord => ({
    id: newId(), serviceId: service.id, serviceName: service.name, slot, ...(slot === 0 ? { forNodeId: nodeId } : {}), nodeId,
    desiredState: 'running', state: 'ready', message: '', createdAtMs: now, stateSinceMs: now,
  });
  const put = await store.txn([], [
    ...[g, r].flatMap((x) => [
      { type: 'put' as const, key: keys.service(x.id), value: encode(x) },
      { type: 'put' as const, key: keys.serviceName(x.name), value: Buffer.from(x.id) },
    ]),
    ...[task(g, 0, n1), task(g, 0, n2), task(r, 1, n1)].map((t) => ({ type: 'put' as const, key: keys.task(t.id), value: encode(t) })),
  ]);
  await view.waitFor(put.revision);
  // Sent by nothing, even before the orchestrator has run over them.
  for (const nodeId of [n1, n2]) {
    assert.deepEqual([...computeAssignments(view, nodeId).tasks.values()].map((t) => t.serviceName), nodeId === n1 ? ['web'] : []);
  }
  await reconciled();
  assert.deepEqual(services.listTasks({ serviceId: g.id }), [], 'the global service has no task on any node');
  const [pending] = services.listTasks({ serviceId: r.id });
  assert.equal(pending.state, 'pending');
  assert.equal(pending.nodeId, '');
  assert.match(pending.message, /^service name "web\.2" is not valid \(.*\): not placed; remove the service and create it under a valid name$/);
  const sent = computeAssignments(view, n1);
  assert.deepEqual([...sent.tasks.values()].map((t) => [t.name, t.serviceName]), [['web.1', 'web']]);
  assert.deepEqual([...sent.secrets.values()].map((x) => x.id), [s.id], 'glob is never sent');

  // More passes (a change of another service) log nothing more about them.
  await services.update('web', { replicas: 2 });
  await reconciled();
  const refusals = logLines.map((l) => JSON.parse(l) as { level: number; service?: string; msg: string }).filter((l) => /is not valid/.test(l.msg));
  assert.deepEqual(refusals.map((l) => [l.level, l.service]).sort(), [[50, 'web.1'], [50, 'web.2']]);
  assert.ok(!logLines.join('').includes('glob-value') && !logLines.join('').includes('s-value'), 'no value in a log line');
  assert.equal(web.name, 'web');
});
