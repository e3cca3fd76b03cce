import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { HushError } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import { encode, keys, type NodeRecord, type TaskRecord } from '../state/records.js';
import { ClusterView } from '../state/view.js';
import { SecretAdmin } from '../secrets/admin.js';
import { NodeRegistry } from '../nodes/registry.js';
import { NodeAdmin } from '../nodes/admin.js';
import { ServiceAdmin } from './admin.js';

let dir: string;
let store: Store;
let view: ClusterView;
let services: ServiceAdmin;
let secrets: SecretAdmin;
let nodeAdmin: NodeAdmin;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hush-services-'));
  store = openSqliteStore(join(dir, 'manager.db'));
  view = await ClusterView.open(store, (e) => { throw e; });
  services = new ServiceAdmin(store, view);
  secrets = new SecretAdmin(store, randomBytes(32), (id, rev) => services.referencing(id, rev));
  nodeAdmin = new NodeAdmin(store, view, new NodeRegistry(store));
});
afterEach(async () => {
  view.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (c: status, pattern?: RegExp) => (e: unknown) =>
  e instanceof HushError && e.code === c && (!pattern || pattern.test(e.message));
const data = () => Buffer.from('hush-unit-' + randomBytes(8).toString('hex'));
const base = { mode: '', secrets: [], constraints: [], labels: {} };

test('create: defaults, references resolved by name or id, visible at once in the view', async () => {
  const db = await secrets.create('db', data(), {});
  await secrets.update('db', data());
  const s = await services.create({
    ...base, name: 'web', secrets: [{ source: 'db' }, { source: db.id, version: 1, target: 'db_v1', uid: 33, gid: 33, mode: 0o440 }],
    constraints: ['node.labels.zone == eu'], labels: { team: 'a' },
  });
  assert.equal(s.mode, 'replicated');
  assert.equal(s.replicas, 1);
  assert.deepEqual(s.secrets, [
    { secretId: db.id, secretName: 'db', target: 'db', uid: 0, gid: 0, mode: 0o400 },
    { secretId: db.id, secretName: 'db', version: 1, target: 'db_v1', uid: 33, gid: 33, mode: 0o440 },
  ]);
  assert.deepEqual(s.constraints, ['node.labels.zone == eu']); // stored as given
  assert.deepEqual(view.services.get(s.id), s); // read-your-writes
  assert.deepEqual(services.list().map((x) => x.name), ['web']);
  assert.equal((await services.get('web')).id, s.id);
  assert.equal((await services.get(s.id)).id, s.id);
  assert.equal((await services.get(s.id.slice(0, 8))).id, s.id);
  await assert.rejects(services.get('nope'), code(status.NOT_FOUND, /^service nope not found$/));

  const g = await services.create({ ...base, name: 'agent', mode: 'global' });
  assert.equal(g.mode, 'global');
  assert.equal(g.replicas, 0);
});

test('create refuses bad input and changes nothing', async () => {
  await secrets.create('db', data(), {});
  await services.create({ ...base, name: 'taken' });
  const before = await store.range('');
  const cases: Array<[Parameters<ServiceAdmin['create']>[0], status, RegExp]> = [
    [{ ...base, name: 'taken' }, status.ALREADY_EXISTS, /^service taken already exists$/],
    [{ ...base, name: '../x' }, status.INVALID_ARGUMENT, /invalid service name/],
    [{ ...base, name: 'x', mode: 'job' }, status.INVALID_ARGUMENT, /invalid service mode "job"/],
    [{ ...base, name: 'x', replicas: 100_000_000 }, status.INVALID_ARGUMENT, /too many replicas \(100000000\): at most 10000/],
    [{ ...base, name: 'x', replicas: 2 ** 32 - 1 }, status.INVALID_ARGUMENT, /too many replicas/],
    [{ ...base, name: 'x', mode: 'global', replicas: 2 }, status.INVALID_ARGUMENT, /replicas cannot be set for a global service/],
    [{ ...base, name: 'x', constraints: ['node.zone==eu'] }, status.INVALID_ARGUMENT, /invalid constraint/],
    [{ ...base, name: 'x', labels: { 'a b': 'x' } }, status.INVALID_ARGUMENT, /invalid label key/],
    [{ ...base, name: 'x', secrets: [{ source: 'nope' }] }, status.NOT_FOUND, /^secret nope not found$/],
    [{ ...base, name: 'x', secrets: [{ source: 'db', version: 9 }] }, status.INVALID_ARGUMENT, /secret db has no version 9/],
    [{ ...base, name: 'x', secrets: [{ source: 'db', target: '..' }] }, status.INVALID_ARGUMENT, /invalid target "\.\."/],
    [{ ...base, name: 'x', secrets: [{ source: 'db', target: 'a/b' }] }, status.INVALID_ARGUMENT, /invalid target "a\/b"/],
    [{ ...base, name: 'x', secrets: [{ source: 'db', mode: 0o4755 }] }, status.INVALID_ARGUMENT, /setuid/],
    [{ ...base, name: 'x', secrets: [{ source: 'db', mode: 0o1000 }] }, status.INVALID_ARGUMENT, /sticky/],
    [{ ...base, name: 'x', secrets: [{ source: 'db', uid: 2 ** 32 - 1 }] }, status.INVALID_ARGUMENT, /invalid uid/],
    [{ ...base, name: 'x', secrets: [{ source: 'db' }, { source: 'db', target: 'db' }] }, status.INVALID_ARGUMENT, /^duplicate target db/],
    [{ ...base, name: 'x', secrets: [{ source: '' }] }, status.INVALID_ARGUMENT, /needs a source secret/],
  ];
  for (const [input, c, pattern] of cases) {
    await assert.rejects(services.create(input), code(c, pattern), `${JSON.stringify(input)}`);
  }
  const after = await store.range('');
  assert.deepEqual(after.kvs, before.kvs);
  assert.equal(after.revision, before.revision);
});

test('update: secret-rm (by name or target) before secret-add, replicas, constraints; CAS on the service', async () => {
  await secrets.create('db', data(), {});
  await secrets.create('tls', data(), {});
  const s = await services.create({ ...base, name: 'web', secrets: [{ source: 'db' }, { source: 'tls', target: 'server.key' }], constraints: ['node.role==worker'] });
  let u = await services.update('web', { secretRm: ['server.key'], secretAdd: [{ source: 'tls', target: 'tls', mode: 0o440 }] });
  assert.deepEqual(u.secrets.map((r) => [r.secretName, r.target, r.mode]), [['db', 'db', 0o400], ['tls', 'tls', 0o440]]);
  u = await services.update(s.id, { secretRm: ['db'], secretAdd: [{ source: 'db', target: 'db' , uid: 7 }], replicas: 0 });
  assert.deepEqual(u.secrets.map((r) => [r.target, r.uid]), [['tls', 0], ['db', 7]]);
  assert.equal(u.replicas, 0);
  u = await services.update('web', { constraintRm: ['node.role == worker'], constraintAdd: ['node.labels.a==b', 'node.labels.a == b'] });
  assert.deepEqual(u.constraints, ['node.labels.a==b']);
  assert.deepEqual(view.services.get(s.id), u);
  assert.ok(u.updatedAtMs >= s.updatedAtMs);

  // Refusals change nothing.
  const before = await store.range('');
  await assert.rejects(services.update('web', { secretAdd: [{ source: 'db' }] }), code(status.INVALID_ARGUMENT, /^duplicate target db/));
  await assert.rejects(services.update('web', { secretRm: ['nope'] }), code(status.NOT_FOUND, /has no secret reference "nope"/));
  await assert.rejects(services.update('web', { constraintRm: ['node.role==worker'] }), code(status.NOT_FOUND, /has no constraint/));
  await assert.rejects(services.update('web', { constraintAdd: ['bad'] }), code(status.INVALID_ARGUMENT, /invalid constraint/));
  await assert.rejects(services.update('web', { replicas: 10_001 }), code(status.INVALID_ARGUMENT, /too many replicas/));
  await assert.rejects(services.update('nope', { replicas: 1 }), code(status.NOT_FOUND, /service nope not found/));
  const g = await services.create({ ...base, name: 'g', mode: 'global' });
  await assert.rejects(services.update('g', { replicas: 1 }), code(status.INVALID_ARGUMENT, /global: replicas cannot be set/));
  const after = await store.range('');
  assert.deepEqual(after.kvs.filter((kv) => !kv.key.includes(g.id) && kv.key !== keys.serviceName('g')), before.kvs);
});

test('remove deletes the service, its name and all its tasks in one revision', async () => {
  const a = await services.create({ ...base, name: 'a', replicas: 3 });
  const b = await services.create({ ...base, name: 'b' });
  const task = (serviceId: string, serviceName: string, slot: number, nodeId = ''): TaskRecord => ({
    id: newId(), serviceId, serviceName, slot, nodeId, desiredState: 'running', state: nodeId ? 'assigned' : 'pending',
    message: '', createdAtMs: Date.now(), stateSinceMs: Date.now(),
  });
  const tasks = [task(a.id, 'a', 1, 'n'.repeat(25)), task(a.id, 'a', 2), task(a.id, 'a', 3), task(b.id, 'b', 1)];
  const put = await store.txn([], tasks.map((t) => ({ type: 'put' as const, key: keys.task(t.id), value: encode(t) })));
  await view.waitFor(put.revision);
  assert.equal(services.listTasks({ serviceId: a.id }).length, 3);
  assert.deepEqual(services.listTasks({ nodeId: 'n'.repeat(25) }).map((t) => t.slot), [1]);

  const revisions = new Set<number>();
  const deleted: string[] = [];
  const stop = view.onChange((changes, revision) => {
    for (const c of changes) if (!c.after) { deleted.push(`${c.kind}:${c.id}`); revisions.add(revision); }
  });
  const removed = await services.remove('a');
  stop();
  assert.equal(removed.id, a.id);
  assert.equal(revisions.size, 1, 'one txn');
  assert.deepEqual(deleted.sort(), [`service:${a.id}`, ...tasks.slice(0, 3).map((t) => `task:${t.id}`)].sort());
  assert.equal(view.services.has(a.id), false);
  assert.equal(await store.get(keys.serviceName('a')), undefined);
  assert.deepEqual(services.listTasks().map((t) => t.serviceName), ['b']);
  // The name is free again.
  await services.create({ ...base, name: 'a' });
  await assert.rejects(services.remove('a-nope'), code(status.NOT_FOUND));
});

test('secret rm is refused while a service references it, allowed once it no longer does', async () => {
  const db = await secrets.create('db', data(), {});
  await services.create({ ...base, name: 'web', secrets: [{ source: 'db', target: 'x' }] });
  await services.create({ ...base, name: 'api', secrets: [{ source: 'db' }] });
  await assert.rejects(secrets.remove('db'), code(status.FAILED_PRECONDITION, /^secret db is in use by the following services: api, web$/));
  await services.update('web', { secretRm: ['db'] });
  await assert.rejects(secrets.remove('db'), code(status.FAILED_PRECONDITION, /following service: api$/));
  await services.remove('api');
  await secrets.remove('db');
  assert.equal(await store.get(keys.secretRefGuard(db.id)), undefined, 'the reference guard goes with the secret');
});

test('a reference and a secret removal that race: never a service referencing a removed secret', async () => {
  for (let round = 0; round < 20; round++) {
    const name = `s${round}`;
    await secrets.create(name, data(), {});
    const [created, removed] = await Promise.allSettled([
      services.create({ ...base, name: `svc${round}`, secrets: [{ source: name }] }),
      secrets.remove(name),
    ]);
    assert.ok(created.status === 'fulfilled' || removed.status === 'fulfilled', `round ${round}: one of them wins`);
    assert.ok(!(created.status === 'fulfilled' && removed.status === 'fulfilled'), `round ${round}: both succeeded`);
    if (created.status === 'rejected') assert.ok(code(status.NOT_FOUND, /secret .* not found/)(created.reason), String(created.reason));
    if (removed.status === 'rejected') assert.ok(code(status.FAILED_PRECONDITION, /in use/)(removed.reason), String(removed.reason));
  }
  // And every stored reference points at a secret that exists.
  for (const s of view.services.values()) for (const r of s.secrets) assert.ok(view.secrets.has(r.secretId), `${s.name} → ${r.secretName}`);
});

test('a pinned version that appears concurrently is not lost: create retries on a changed secret', async () => {
  await secrets.create('db', data(), {});
  const [s] = await Promise.all([
    services.create({ ...base, name: 'web', secrets: [{ source: 'db' }] }),
    secrets.update('db', data()),
  ]);
  assert.equal(s.secrets[0].secretName, 'db');
});

test('node admin: availability and labels with CAS; removal denies the certificate in the same txn', async () => {
  const node: NodeRecord = {
    id: newId(), role: 'worker', hostname: 'n1', labels: { zone: 'eu' }, certSerial: 'ab'.repeat(16),
    certNotAfterMs: Date.now() + 86_400_000, state: 'ready', availability: 'active', createdAtMs: Date.now(),
  };
  const r = await store.txn([], [{ type: 'put', key: keys.node(node.id), value: encode(node) }]);
  await view.waitFor(r.revision);

  let n = await nodeAdmin.update('n1', { availability: 'drain', labelAdd: { rack: '7' }, labelRm: ['zone'] });
  assert.equal(n.availability, 'drain');
  assert.deepEqual(n.labels, { rack: '7' });
  assert.deepEqual(view.nodes.get(node.id), n);
  n = await nodeAdmin.update(node.id.slice(0, 6), { availability: 'active' });
  assert.equal(n.availability, 'active');
  await assert.rejects(nodeAdmin.update('n1', { availability: 'gone' }), code(status.INVALID_ARGUMENT, /invalid availability "gone"/));
  await assert.rejects(nodeAdmin.update('n1', { labelRm: ['zone'] }), code(status.NOT_FOUND, /node n1 has no label "zone"/));
  await assert.rejects(nodeAdmin.update('n1', { labelAdd: { 'a=b': '' } }), code(status.INVALID_ARGUMENT, /invalid label key/));
  await assert.rejects(nodeAdmin.update('nope', { availability: 'pause' }), code(status.NOT_FOUND, /node nope not found/));

  await assert.rejects(nodeAdmin.remove('n1', false), code(status.FAILED_PRECONDITION, /is ready .*--force/));
  assert.ok(view.nodes.has(node.id));
  const revisions = new Set<number>();
  const stop = view.onChange((_c, revision) => revisions.add(revision));
  const removed = await nodeAdmin.remove('n1', true);
  stop();
  assert.equal(removed.id, node.id);
  assert.equal(revisions.size, 1);
  assert.equal(view.nodes.has(node.id), false);
  assert.deepEqual(view.denied.get(node.certSerial), { serial: node.certSerial, nodeId: node.id, notAfterMs: node.certNotAfterMs });
  await assert.rejects(nodeAdmin.remove('n1', true), code(status.NOT_FOUND));
});

test('a node that is not ready is removed without --force', async () => {
  const node: NodeRecord = {
    id: newId(), role: 'worker', hostname: 'n2', labels: {}, certSerial: 'cd'.repeat(16),
    certNotAfterMs: Date.now() + 1000, state: 'down', availability: 'active', createdAtMs: Date.now(),
  };
  const r = await store.txn([], [{ type: 'put', key: keys.node(node.id), value: encode(node) }]);
  await view.waitFor(r.revision);
  await nodeAdmin.remove('n2', false);
  assert.ok(view.denied.has(node.certSerial));
});

test('a constraint stored before the operator rules were tightened: removable by its exact text, and other changes say what to fix', async () => {
  const s = await services.create({ ...base, name: 'old', constraints: ['node.role==worker'] });
  // As an older manager stored it: `node.id===x` was taken as == "=x".
  const kv = (await store.get(keys.service(s.id)))!;
  const legacy = { ...s, constraints: ['node.role==worker', 'node.id===x'] };
  assert.ok((await store.txn([{ key: kv.key, modRev: kv.modRev }], [{ type: 'put', key: kv.key, value: encode(legacy) }])).ok);
  await assert.rejects(services.update('old', { replicas: 2 }), code(status.INVALID_ARGUMENT, /^invalid constraint "node\.id===x": unknown operator "==="/));
  await assert.rejects(services.update('old', { constraintRm: ['node.id!==x'] }), code(status.INVALID_ARGUMENT, /unknown operator "!=="/));
  const u = await services.update('old', { constraintRm: ['node.id===x'], replicas: 2 });
  assert.deepEqual(u.constraints, ['node.role==worker']);
  assert.equal(u.replicas, 2);
});

test('refs with a NUL are INVALID_ARGUMENT before any store access (the store would throw on a NUL key)', async () => {
  await secrets.create('db', data(), {});
  await services.create({ ...base, name: 'web', secrets: [{ source: 'db' }] });
  const before = await store.range('');
  const invalid = (what: RegExp) => code(status.INVALID_ARGUMENT, what);
  await assert.rejects(secrets.get('db\u0000'), invalid(/^invalid secret name or id "db\\u0000"/));
  await assert.rejects(secrets.update('db\u0000', data()), invalid(/^invalid secret name or id/));
  await assert.rejects(secrets.remove('db\u0000'), invalid(/^invalid secret name or id/));
  await assert.rejects(services.get('web\u0000'), invalid(/^invalid service name or id "web\\u0000"/));
  await assert.rejects(services.remove('web\u0000'), invalid(/^invalid service name or id/));
  await assert.rejects(services.update('web\u0000', { replicas: 2 }), invalid(/^invalid service name or id/));
  await assert.rejects(services.update('web', { secretRm: ['db\u0000'] }), invalid(/^invalid secret reference to remove/));
  await assert.rejects(services.update('web', { secretAdd: [{ source: 'db\u0000', target: 'x' }] }), invalid(/^invalid secret name or id/));
  await assert.rejects(services.create({ ...base, name: 'x', secrets: [{ source: 'db', secretId: 'a\u0000' }] }), invalid(/^invalid secret id/));
  await assert.rejects(nodeAdmin.update('n\u0000', { availability: 'drain' }), invalid(/^invalid node id or hostname "n\\u0000"/));
  await assert.rejects(nodeAdmin.remove('n\u0000', true), invalid(/^invalid node id or hostname/));
  assert.deepEqual(await store.range(''), before);
});
