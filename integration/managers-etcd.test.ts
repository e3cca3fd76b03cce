// Several managers on a real 3-member etcd: `manager init --etcd`, `manager join`, `manager ls`,
// `manager rm`, and every manager serving the cluster from its own view of etcd.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { distinctive, hush, hushOk } from './helpers/manager.js';
import { waitUntil } from '../common/testing/wait.js';
import { startAgent, cleanUpAgents } from './helpers/agent-process.js';
import { openStore } from '../manager/store/open.js';
import { storeConfigFor } from '../manager/store/state-config.js';
import { keys } from '../manager/state/records.js';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let c: HaCluster | undefined;
const dirs: string[] = [];
after(async () => {
  await cleanUpAgents();
  await c?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('three managers on etcd: init --etcd, two joins, ls shows all three reachable and exactly one leader', { timeout: 120_000 }, async () => {
  c = await startHaCluster({ managers: 3 });
  const [a, b, m3] = c.managers;
  await c.leader(a);
  const rows = await c.ls(b);
  assert.equal(rows.length, 3, JSON.stringify(rows));
  assert.deepEqual(rows.map((r) => r.address).sort(), c.managers.map((m) => `127.0.0.1:${m.port}`).sort());
  assert.equal(rows.filter((r) => r.leader).length, 1);
  assert.equal(rows.filter((r) => r.self).length, 1);
  assert.equal(rows.find((r) => r.self)!.address, `127.0.0.1:${b.port}`);
  const table = (await hushOk(['manager', 'ls'], { env: m3.env })).stdout;
  assert.match(table, /^ID\s+ADDRESS\s+HOSTNAME\s+LEADER\s+REACHABLE/);
  assert.equal(table.trim().split('\n').length, 4);
});

test('manager init --etcd refuses a prefix that already holds a cluster, and bad etcd flags, each with one line', { timeout: 60_000 }, async () => {
  assert.ok(c, 'the cluster of the first test');
  const root = mkdtempSync(join(tmpdir(), 'hush-ha-init-'));
  dirs.push(root);
  const env = { ...c.managers[0].env, HUSH_STATE_DIR: join(root, 'm') };
  const urls = c.etcd.endpoints.map((e) => `http://${e}`).join(',');
  const again = await hush(['manager', 'init', '--listen', '127.0.0.1:4999', '--etcd', urls], { env });
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'Error: etcd under /hush already holds a cluster\n');
  assert.equal(existsSync(join(root, 'm', 'keyring.json')), false, 'nothing left behind: the directory can be initialised again');
  for (const [args, want] of [
    [['--etcd', 'ftp://x:1'], /^Error: invalid --etcd endpoint "ftp:\/\/x:1": expected/],
    [['--etcd', 'https://127.0.0.1:2379'], /^Error: https:\/\/ etcd endpoints need --etcd-cacert/],
    [['--etcd', urls, '--etcd-prefix', 'no-slash'], /^Error: invalid --etcd-prefix "no-slash"/],
    [['--etcd-prefix', '/x'], /^Error: --etcd-prefix, --etcd-cacert, --etcd-cert and --etcd-key need --etcd/],
  ] as Array<[string[], RegExp]>) {
    const r = await hush(['manager', 'init', '--listen', '127.0.0.1:4999', ...args], { env });
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  // Another prefix in the same etcd is another cluster.
  const other = await hushOk(['manager', 'init', '--listen', '127.0.0.1:4999', '--etcd', urls, '--etcd-prefix', '/hush-other'], { env });
  assert.match(other.stdout, /initialised in etcd .*prefix \/hush-other/);
});

test('a secret created on one manager is listed by every other; a service created on another is placed by the leader', { timeout: 60_000 }, async () => {
  assert.ok(c, 'the cluster of the first test');
  const [a, b, m3] = c.managers;
  const name = `s-${Date.now()}`;
  await hushOk(['secret', 'create', name, '-'], { env: a.env, input: distinctive() });
  for (const m of [b, m3]) {
    await waitUntil(`${name} listed on another manager`, async () => (await hush(['secret', 'ls'], { env: m.env })).stdout.includes(name), 5000);
  }
  await hushOk(['service', 'create', '--name', `svc-${name}`, '--secret', name, '--replicas', '2'], { env: b.env });
  // No node: the leader's orchestrator records both tasks as pending, seen from any manager.
  await waitUntil('two pending tasks listed on the third manager', async () => {
    const ps = await hush(['service', 'ps', `svc-${name}`], { env: m3.env });
    return ps.code === 0 && (ps.stdout.match(/pending/g) ?? []).length === 2;
  }, 15_000);
});

test('an agent given one manager learns the other two from its stream; a service rm on a manager that does not hold its stream revokes its file', { timeout: 90_000 }, async () => {
  assert.ok(c, 'the cluster of the first test');
  const [a, b, m3] = c.managers;
  const root = mkdtempSync(join(tmpdir(), 'hush-ha-agent-'));
  dirs.push(root);
  const agent = await startAgent({ managerPort: a.port, token: c.workerToken, stateDir: join(root, 'state'), mount: join(root, 'mnt'), hostname: 'ha-node-1' });
  const all = c.managers.map((m) => `127.0.0.1:${m.port}`).sort();
  await waitUntil('the agent lists the three managers, learned from the cluster', async () => {
    const st = await agent.status();
    return st.managersFrom === 'cluster' && JSON.stringify([...st.managers].sort()) === JSON.stringify(all);
  }, 15_000, { intervalMs: 200 });
  // Heartbeats stay in the memory of the manager holding the stream: while the three managers beat
  // their presence records 18 times (6 s, more than the agent's 5 s heartbeat period), etcd sees no
  // other key change.
  const store = await openStore(storeConfigFor(a.stateDir));
  const changed = new Set<string>();
  let beats = 0;
  const cancel = store.watch(await store.revision(), (cs) => {
    for (const ch of cs) {
      changed.add(ch.key.replace(/[^/]+$/, '*'));
      if (ch.key.startsWith('/managers/')) beats++;
    }
  });
  try {
    await waitUntil('18 presence beats', () => beats >= 18, 20_000, { intervalMs: 100 });
  } finally {
    cancel();
    await store.close();
  }
  assert.deepEqual([...changed].sort(), ['/managers/*'], 'no write per node heartbeat');
  const value = distinctive();
  const name = `rv-${Date.now()}`;
  await hushOk(['secret', 'create', name, '-'], { env: b.env, input: value });
  await hushOk(['service', 'create', '--name', `svc-${name}`, '--secret', name, '--constraint', 'node.hostname==ha-node-1'], { env: b.env });
  const file = join(agent.mount, `svc-${name}`, name);
  await waitUntil('the file served on the agent', () => existsSync(file) && readFileSync(file, 'utf8') === value, 20_000, { intervalMs: 50 });
  // The agent's stream is on manager a; the removal is committed through m3 and reaches a by its watch.
  await hushOk(['service', 'rm', `svc-${name}`], { env: m3.env });
  await waitUntil('the file gone on the agent', () => !existsSync(file), 10_000, { intervalMs: 20 });
  await agent.stop();
});

test('a 200-replica service is placed and removed on etcd although each txn holds at most 128 ops', { timeout: 60_000 }, async () => {
  assert.ok(c, 'the cluster of the first test');
  const [a, b] = c.managers;
  const name = `wide-${Date.now()}`;
  await hushOk(['service', 'create', '--name', name, '--replicas', '200'], { env: a.env });
  const count = async (m = b) => (await hushOk(['service', 'ps', name], { env: m.env })).stdout.trim().split('\n').length - 1;
  await waitUntil('200 tasks recorded', async () => (await count()) === 200, 20_000, { intervalMs: 200 });
  await hushOk(['service', 'rm', name], { env: b.env });
  // Read etcd itself: every task record of the service is deleted (in batches, by the leader).
  const store = await openStore(storeConfigFor(a.stateDir));
  try {
    await waitUntil('no task of it left in etcd', async () => {
      const { kvs } = await store.range(keys.tasksPrefix);
      return !kvs.some((kv) => kv.value.toString().includes(`"serviceName":"${name}"`));
    }, 20_000, { intervalMs: 200 });
  } finally {
    await store.close();
  }
});

test('a service referencing more secrets than one etcd txn can hold is refused with one clear line, nothing stored', { timeout: 60_000 }, async () => {
  assert.ok(c, 'the cluster of the first test');
  const [a] = c.managers;
  const base = `many-${Date.now()}`;
  const args: string[] = [];
  for (let i = 0; i < 130; i++) {
    await hushOk(['secret', 'create', `${base}-${i}`, '-'], { env: a.env, input: 'x' });
    args.push('--secret', `${base}-${i}`);
  }
  const r = await hush(['service', 'create', '--name', base, ...args], { env: a.env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error: the change is too large for the cluster store: etcd store: this txn has \d+ ops, over etcd's limit of 127 .*nothing was written\n$/);
  const ls = await hushOk(['service', 'ls'], { env: a.env });
  assert.doesNotMatch(ls.stdout, new RegExp(base));
});

test('manager rm: refuses itself and a running manager; removes a stopped one, which then cannot start', { timeout: 60_000 }, async () => {
  assert.ok(c, 'the cluster of the first test');
  const [a, , m3] = c.managers;
  const rows = await c.ls(a);
  const self = rows.find((r) => r.self)!;
  const third = rows.find((r) => r.address === `127.0.0.1:${m3.port}`)!;
  const own = await hush(['manager', 'rm', self.id], { env: a.env });
  assert.equal(own.code, 1);
  assert.match(own.stderr, /^Error: a manager cannot remove itself/);
  const running = await hush(['manager', 'rm', third.id], { env: a.env });
  assert.equal(running.code, 1);
  assert.match(running.stderr, /is running \(reachable\): stop it first, or use --force/);
  await m3.proc!.stop();
  await waitUntil('the stopped manager unreachable', async () => !(await c!.ls(a)).find((r) => r.id === third.id)?.reachable, 15_000);
  assert.equal((await hushOk(['manager', 'rm', third.id], { env: a.env })).stdout.trim(), third.id);
  assert.equal((await c.ls(a)).length, 2);
  const again = await hush(['manager', 'run', '--listen', `127.0.0.1:${m3.port}`], { env: m3.env, timeoutMs: 20_000 });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /no identity for manager .*manager rm/);
  m3.proc = undefined;
});
