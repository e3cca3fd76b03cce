// Faults of several managers on a real 3-member etcd (issue 10): real `hush manager` and `hush agent`
// processes (a real FUSE mount), real signals (kill -9, SIGSTOP/SIGCONT), real etcd members killed
// and restarted. The tests run in order on one cluster; each leaves three managers and three etcd
// members running for the next. Timings are measured from the fault and printed as diagnostics.
//
// The mount is read only from child processes (helpers/proc.ts, helpers/read-loop.ts); no message
// carries a secret value, and the last test looks for every value used here on the disks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHaCluster, type HaCluster, type HaManager } from './helpers/ha.js';
import { distinctive, hush, hushOk, oneErrorLine } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { controlUnixClient, unary } from './helpers/grpc.js';
import { startReadLoop, killReadLoops } from './helpers/read-loop.js';
import { assertNoPlaintext, needle } from './helpers/disk.js';
import { catFile, run, statFile } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';
import type { EtcdMember } from '../manager/store/testdata/etcd-cluster.js';

const ELECTION_TTL = 5;
const ROOT = mkdtempSync(join(tmpdir(), 'hush-ha-faults-'));
/** Every secret value of this file starts with this distinctive() text: one needle finds any of them on disk. */
const VALUE_PREFIX = distinctive('hush-ha-faults-') + '-';
let valueCount = 0;
const newValue = () => `${VALUE_PREFIX}${valueCount++}`;

let c: HaCluster;
let A: RunningAgent;
const agentDir = { stateDir: join(ROOT, 'a-state'), mount: join(ROOT, 'a-mnt') };

/** Shared by the three quorum tests: the members down, the served file, its task, the reader across them. */
const quorum: { down: EtcdMember[]; servedFile?: string; taskId?: string; loop?: ReturnType<typeof startReadLoop> } = { down: [] };

const addr = (m: HaManager) => `127.0.0.1:${m.port}`;
const others = (m: HaManager) => c.managers.filter((x) => x !== m);
const alive = (m: HaManager) => !!m.proc && m.proc.proc.exitCode === null && m.proc.proc.signalCode === null;

async function createSecret(m: HaManager, name: string): Promise<void> {
  await hushOk(['secret', 'create', name, '-'], { env: m.env, input: newValue() });
}

interface TaskJson { id: string; name: string; node: string; state: string }
async function tasks(m: HaManager, service: string): Promise<TaskJson[]> {
  const out = (await hushOk(['service', 'ps', service, '--format', 'json'], { env: m.env })).stdout;
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TaskJson);
}

/** A service of one task on node-a with secret `secret` as file `v`; the file's path on the mount. */
async function serviceOnA(m: HaManager, name: string, secret: string): Promise<string> {
  await hushOk(['service', 'create', '--name', name, '--secret', `source=${secret},target=v`, '--constraint', 'node.hostname==node-a'], { env: m.env });
  return join(agentDir.mount, `${name}.1`, 'v');
}

const visible = async (path: string) => !('error' in await statFile(path));
const missing = async (path: string) => { const s = await statFile(path); return 'error' in s && /No such file/.test(s.error); };

/** The etcd member that is the raft leader now (etcdctl endpoint status). */
async function raftLeader(): Promise<EtcdMember> {
  const up = c.etcd.members.filter((m) => m.proc);
  const r = await run('etcdctl', ['--endpoints', up.map((m) => `http://${m.client}`).join(','), 'endpoint', 'status', '-w', 'json']);
  assert.equal(r.code, 0, `etcdctl endpoint status: ${r.stderr}`);
  // Member ids are 64-bit: compared as strings, not as JSON numbers.
  const rows = JSON.parse(r.stdout.toString().replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"')) as
    Array<{ Endpoint: string; Status: { header: { member_id: string }; leader: string } }>;
  const row = rows.find((x) => x.Status.header.member_id === x.Status.leader);
  const m = row && c.etcd.members.find((x) => `http://${x.client}` === row.Endpoint);
  assert.ok(m, `no raft leader in ${r.stdout.toString()}`);
  return m;
}

const T0 = Date.now();
/** What each manager logged about the scheduler's leadership (for diagnostics). */
function leadHistory(): string {
  return c.managers.map((m) => `${addr(m)}: ` + (m.proc?.logs ?? []).filter((l) => /lead|campaign|fenc/i.test(String(l.msg)))
    .map((l) => `${Number(l.time) - T0}ms ${String(l.msg)} ${l.err ?? l.reason ?? ''}`).join('; ')).join(' | ');
}

before(async () => {
  // TTL 5 s, not the default 8: a killed leader's lease runs out up to one TTL after its last
  // keepalive. With 10 s (the default then) the new task was placed 7.6 to 9.9 s after the kill (six
  // runs); with the default of 8 s, bench/failover.ts measures it (max 8.1 s); 5 s keeps this file
  // fast and the 10 s check clear of the machine's noise.
  c = await startHaCluster({ managers: 3, electionTtl: ELECTION_TTL });
});

after(async () => {
  await quorum.loop?.stop().catch(() => undefined);
  killReadLoops();
  await cleanUpAgents();
  await c?.stop();
  rmSync(ROOT, { recursive: true, force: true });
});

test('kill -9 of the leading manager: its agent moves to another within 3 s and its reader sees no error; a new leader places a new task within 10 s; a revocation through a survivor lands', { timeout: 120_000 }, async (t) => {
  const L = await c.leader(c.managers[0]);
  const [X, Y] = others(L);
  // The agent must hold its stream on the leader: with the others stopped it can only reach L.
  await Promise.all([X.proc!.stop(), Y.proc!.stop()]);
  A = await startAgent({ managerPort: c.managers.map((m) => m.port), token: c.workerToken, ...agentDir, hostname: 'node-a' });
  await Promise.all([X.start(), Y.start()]);
  assert.equal(await c.leader(X), L, 'the leader is still the one the agent holds its stream on');
  assert.equal((await A.status()).connection.manager, addr(L));

  await createSecret(X, 'f1-old');
  await createSecret(X, 'f1-new');
  const oldFile = await serviceOnA(X, 'f1-old', 'f1-old');
  await waitUntil(`${oldFile} on node-a`, () => visible(oldFile), 15_000);
  const loop = startReadLoop(oldFile);
  await waitUntil('the reader has read the file', async () => (await loop.report()).reads >= 20, 10_000);

  const since = A.logs.length;
  const killedAt = Date.now();
  await L.proc!.kill9();
  const moved = A.waitForLog('assignments complete', 15_000, since).then((l) => ({ line: l, ms: Date.now() - killedAt }));
  // A new service through a survivor, after the kill: only a new leader places its task.
  const newFile = await serviceOnA(X, 'f1-new', 'f1-new');
  const placedMs = await waitUntil(`${newFile} on node-a`, async () => (await visible(newFile)) && Date.now() - killedAt, 30_000, { intervalMs: 50 });
  const readyMs = await waitUntil('the new task ready', async () => (await tasks(Y, 'f1-new'))[0]?.state === 'ready' && Date.now() - killedAt, 10_000, { intervalMs: 100 });
  const { line, ms: movedMs } = await moved;
  const status = await A.status();
  const reads = await loop.stop();
  const newLeader = await c.leader(X);
  t.diagnostic(`agent served by ${String(line.manager)} ${movedMs} ms after the kill; new task's file visible at ${placedMs} ms, ready at ${readyMs} ms; reader: ${JSON.stringify(reads)}`);

  // Revocation through a survivor: the task that lived through the failover goes.
  const rmAt = Date.now();
  await hushOk(['service', 'rm', 'f1-old'], { env: Y.env });
  await waitUntil(`${oldFile} gone from node-a`, () => missing(oldFile), 10_000, { intervalMs: 50 });
  t.diagnostic(`revoked through a surviving manager in ${Date.now() - rmAt} ms`);

  assert.notEqual(line.manager, addr(L), 'the agent is served by another manager');
  assert.ok([addr(X), addr(Y)].includes(String(line.manager)));
  assert.equal(status.connection.state, 'connected');
  assert.equal(status.connection.manager, line.manager, '`hush agent status` names the new manager');
  assert.ok(movedMs <= 3000, `agent served by another manager after ${movedMs} ms (at most 3 s)`);
  assert.deepEqual(reads.errors, {}, `the reader saw errors: ${JSON.stringify(reads)}`);
  assert.equal(reads.changed, 0);
  assert.ok(reads.reads > 100, `only ${reads.reads} reads`);
  assert.ok(newLeader !== L);
  assert.ok(placedMs <= 10_000, `the new leader placed the new task ${placedMs} ms after the kill (at most 10 s)`);

  await L.start();
  await c.leader(X);
});

test('kill -9 of a manager amid 200 secret creates (control socket): every create that succeeded is listed by the survivors', { timeout: 90_000 }, async (t) => {
  const leader = await c.leader(c.managers[0]);
  const victim = others(leader)[0];
  const survivor = others(leader)[1];
  const names = Array.from({ length: 200 }, (_, i) => `f2-${String(i).padStart(3, '0')}`);
  const ok: string[] = [];
  const failed: Array<{ name: string; err: string }> = [];
  let client = controlUnixClient(victim.stateDir);
  let killed: Promise<void> | undefined;
  try {
    for (const [i, name] of names.entries()) {
      const call = unary(client, 'CreateSecret', { name, data: Buffer.from(newValue()), labels: {} }, 10_000);
      // Midway, while a create is in flight: the client then goes on through a survivor, as a failover would.
      if (i === 100) killed = victim.proc!.kill9();
      try {
        await call;
        ok.push(name);
      } catch (e) {
        failed.push({ name, err: (e as Error).message });
        if (killed && failed.length === 1) {
          await killed;
          client.close();
          client = controlUnixClient(survivor.stateDir);
        }
      }
    }
  } finally {
    client.close();
  }
  assert.ok(killed, 'the victim was killed');
  await killed;
  t.diagnostic(`${ok.length} creates succeeded, ${failed.length} failed: ${JSON.stringify(failed.map((f) => `${f.name}: ${f.err}`))}`);
  for (const m of [survivor, leader]) {
    const listed = new Set((await hushOk(['secret', 'ls', '--format', 'json'], { env: m.env })).stdout.split('\n').filter(Boolean)
      .map((l) => (JSON.parse(l) as { name: string }).name).filter((n) => n.startsWith('f2-')));
    const lost = ok.filter((n) => !listed.has(n));
    assert.deepEqual(lost, [], `creates that succeeded but are not listed on ${addr(m)}`);
    const extra = [...listed].filter((n) => !ok.includes(n) && !failed.some((f) => f.name === n));
    assert.deepEqual(extra, []);
    const inDoubt = failed.filter((f) => listed.has(f.name)).map((f) => f.name);
    t.diagnostic(`on ${addr(m)}: ${listed.size} listed (${inDoubt.length} of the failed ones committed anyway: ${inDoubt.join(',')})`);
  }
  assert.ok(failed.length <= 1, 'at most the create in flight at the kill fails (the others go through a survivor)');
  await victim.start();
  await c.leader(leader);
});

/** `secret create` through the CLI; its duration. */
async function timedCreate(m: HaManager, name: string) {
  const at = Date.now();
  const r = await hush(['secret', 'create', name, '-'], { env: m.env, input: newValue(), timeoutMs: 60_000 });
  return { r, ms: Date.now() - at };
}

test('kill -9 of one etcd member (the raft leader) amid CLI writes: no write fails', { timeout: 90_000 }, async (t) => {
  const m = c.managers[1];
  const member = await raftLeader();
  const results: Array<{ code: number | null; ms: number; err: string }> = [];
  let killed: Promise<void> | undefined;
  let after = 0;
  for (let i = 0; after < 12; i++) {
    if (i === 3) killed = c.etcd.kill(member);
    const { r, ms } = await timedCreate(m, `f3-one-${i}`);
    results.push({ code: r.code, ms, err: r.stderr.trim() });
    if (killed) after++;
  }
  await killed;
  t.diagnostic(`killed etcd ${member.name} (raft leader); ${results.length} writes, longest ${Math.max(...results.map((x) => x.ms))} ms: ${results.map((x) => x.ms).join(',')}`);
  assert.deepEqual(results.filter((x) => x.code !== 0), [], 'failed writes');
  await c.etcd.restart(member);
});

test('two of three etcd members killed: a write fails within ~5 s with one clear line, the agent keeps serving', { timeout: 90_000 }, async (t) => {
  const m = c.managers[2];
  quorum.servedFile = join(agentDir.mount, 'f1-new.1', 'v');
  assert.ok(await visible(quorum.servedFile), 'the task of the first test is served');
  quorum.taskId = (await tasks(m, 'f1-new'))[0]?.id;
  // Reads through the loss of quorum and until well after it is back (the last quorum test stops it).
  const loop = quorum.loop = startReadLoop(quorum.servedFile, 10);
  quorum.down = c.etcd.members.slice(0, 2);
  await Promise.all(quorum.down.map((x) => c.etcd.kill(x)));
  const first = await timedCreate(m, 'f3-q-1');
  const svc = await (async () => {
    const at = Date.now();
    const r = await hush(['service', 'create', '--name', 'f3-q-svc', '--secret', 'f1-new'], { env: m.env, timeoutMs: 60_000 });
    return { r, ms: Date.now() - at };
  })();
  const second = await timedCreate(m, 'f3-q-2');
  const cat = await catFile(quorum.servedFile);
  const reads = await loop.report();
  t.diagnostic(`secret create: exit ${first.r.code} in ${first.ms} ms: ${first.r.stderr.trim()}`);
  t.diagnostic(`service create: exit ${svc.r.code} in ${svc.ms} ms: ${svc.r.stderr.trim()}`);
  t.diagnostic(`secret create again: exit ${second.r.code} in ${second.ms} ms: ${second.r.stderr.trim()}`);
  t.diagnostic(`reader during the loss of quorum: ${JSON.stringify(reads)}`);

  assert.equal(cat.code, 0, 'the agent still serves its file');
  assert.deepEqual(reads.errors, {}, 'the reader saw errors');
  assert.ok(reads.reads > 0);
  for (const [what, w] of [['secret create', first], ['service create', svc], ['secret create again', second]] as const) {
    assert.notEqual(w.r.code, 0, `${what} succeeded without a quorum`);
    // ~5 s: a read that hits its 2 s deadline, and at most one more (a txn queued behind another's read).
    assert.ok(w.ms <= 7000, `${what} failed only after ${w.ms} ms`);
    const line = oneErrorLine(w.r);
    assert.doesNotMatch(line, /internal error/, `${what}: not a clear error: ${line}`);
    assert.match(line, /etcd|store|quorum/i, `${what}: the error does not say the store is unavailable: ${line}`);
  }
});

test('two of three etcd members killed: reads answer, saying they may be stale', { timeout: 60_000 }, async (t) => {
  assert.equal(quorum.down.length, 2, 'the previous test took the quorum away');
  const m = c.managers[0];
  const answers = [];
  for (const args of [['secret', 'ls'], ['service', 'ls'], ['service', 'ps', 'f1-new']]) {
    const at = Date.now();
    const r = await hush(args, { env: m.env, timeoutMs: 60_000 });
    t.diagnostic(`${args.join(' ')}: exit ${r.code} in ${Date.now() - at} ms; stdout ${r.stdout.split('\n').filter(Boolean).length} lines; stderr: ${r.stderr.trim()}`);
    answers.push({ args, r });
  }
  for (const { args, r } of answers) {
    assert.equal(r.code, 0, `${args.join(' ')} without a quorum: ${r.stderr.trim()}`);
    assert.match(r.stderr, /stale/i, `${args.join(' ')} does not say its answer may be stale`);
  }
});

test('one etcd member back: writes resume without any manager restarted', { timeout: 90_000 }, async (t) => {
  const pids = c.managers.map((m) => m.proc?.proc.pid);
  const [back, still] = quorum.down.length ? quorum.down : c.etcd.members.filter((x) => !x.proc);
  assert.ok(back, 'the previous tests took two members down');
  await c.etcd.restart(back);
  const at = Date.now();
  const m = c.managers[2];
  let i = 0;
  await waitUntil('a write through the CLI succeeds', async () => (await timedCreate(m, `f3-back-${i++}`)).r.code === 0, 60_000, { intervalMs: 200 });
  const writeMs = Date.now() - at;
  const leader = await c.leader(c.managers[0]);
  t.diagnostic(`etcd ${back.name} answered again: first write after ${writeMs} ms (${i} tries), manager ls shows a leader (${addr(leader)}) after ${Date.now() - at} ms`);
  if (still) await c.etcd.restart(still);
  quorum.down = [];
  assert.deepEqual(c.managers.map((x) => x.proc?.proc.pid), pids, 'no manager was restarted');
  assert.ok(c.managers.every(alive), 'every manager still runs');
  // A write through every manager works; then the node is still up, its task the same, and its reader saw no error.
  for (const m of c.managers) await createSecret(m, `f3-each-${m.port}`);
  const reads = await quorum.loop?.stop();
  quorum.loop = undefined;
  const nodes = (await hushOk(['node', 'ls', '--format', 'json'], { env: leader.env })).stdout.split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as { hostname: string; state: string });
  const downs = c.managers.flatMap((m) => (m.proc?.logs ?? []).filter((l) => l.msg === 'node down: missed heartbeats').map(() => addr(m)));
  t.diagnostic(`reader from the loss of quorum until now: ${JSON.stringify(reads)}; nodes ${JSON.stringify(nodes)}; marked down by ${JSON.stringify(downs)}`);
  assert.deepEqual(downs, [], 'no manager marked the node down: its heartbeats were refused only because etcd had no quorum');
  assert.deepEqual(nodes.map((n) => n.state), ['ready']);
  assert.equal((await tasks(leader, 'f1-new'))[0]?.id, quorum.taskId, 'the node kept its task');
  if (reads) assert.deepEqual(reads.errors, {}, 'the reader saw errors');
});

test('SIGSTOP of the leading manager: another leads (manager ls on a third); after SIGCONT it does not lead and its fenced writes do not land', { timeout: 90_000 }, async (t) => {
  const L = await c.leader(c.managers[0]);
  const [X, Y] = others(L);
  const terms = L.proc!.logs.filter((l) => l.msg === 'leading the scheduler' || l.msg === 'no longer leading the scheduler');
  assert.equal(terms.at(-1)?.msg, 'leading the scheduler', 'the manager that manager ls names as the leader leads');
  const since = L.proc!.logs.length;
  const pid = L.proc!.proc.pid!;
  const stoppedAt = Date.now();
  process.kill(pid, 'SIGSTOP');
  let electedMs: number;
  try {
    // Created while L is paused: the leader's orchestrator, L's on resume if it still thought it led, would place it.
    await hushOk(['service', 'create', '--name', 'f4', '--replicas', '2', '--secret', 'f1-new', '--constraint', 'node.labels.zone==nowhere'], { env: X.env });
    electedMs = await waitUntil('another manager leads, per manager ls on a third', async () => {
      const rows = await c.ls(Y);
      const lead = rows.filter((r) => r.leader && r.reachable);
      return lead.length === 1 && [addr(X), addr(Y)].includes(lead[0].address) ? Date.now() - stoppedAt : undefined;
    }, 30_000, { intervalMs: 100 });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const resumedAt = Date.now();
  const newLeader = await c.leader(Y);
  assert.notEqual(newLeader, L);
  const resumed = () => L.proc!.logs.slice(since);
  await waitUntil('the resumed manager logs that it no longer leads', () => resumed().some((l) => l.msg === 'no longer leading the scheduler'), 10_000)
    .catch((e: Error) => { throw new Error(`${e.message}; what the managers logged about leading: ${leadHistory()}`); });
  // Let the resumed manager act on what it missed: its view catches up with f4 (and a write through it works).
  await createSecret(L, 'f4-through-old-leader');
  await waitUntil('two tasks of f4, listed by the resumed manager', async () => (await tasks(L, 'f4')).length === 2, 10_000);
  const lines = resumed();
  t.diagnostic(`new leader ${addr(newLeader)} per manager ls ${electedMs} ms after SIGSTOP; resumed manager logged: ${JSON.stringify(lines.map((l) => l.msg))}`);

  const rows = await c.ls(L);
  assert.equal(rows.find((r) => r.self)?.leader, false, 'the resumed manager does not list itself as the leader');
  assert.equal(rows.find((r) => r.leader)?.address, addr(newLeader));
  assert.ok(!lines.some((l) => l.msg === 'leading the scheduler'), 'the resumed manager led again');
  for (const m of c.managers) {
    const ts = await tasks(m, 'f4');
    assert.deepEqual(ts.map((x) => x.name).sort(), ['f4.1', 'f4.2'], `f4's tasks on ${addr(m)}: no duplicate`);
  }
  t.diagnostic(`resumed ${Date.now() - resumedAt} ms ago; fenced writes it logged as refused: ${lines.filter((l) => /fenced write refused/.test(JSON.stringify(l))).length}`);
});

test('after all of it: no secret value of this file in any etcd data dir or manager state dir', { timeout: 120_000 }, (t) => {
  assert.ok(valueCount > 200, `only ${valueCount} values used`);
  const needles = [needle('a secret value of this file', VALUE_PREFIX)];
  let files = 0;
  let bytes = 0;
  for (const dir of [c.etcd.dir, ...c.managers.map((m) => m.stateDir), agentDir.stateDir]) {
    const r = assertNoPlaintext(dir, needles, 'after the faults');
    files += r.files.length;
    bytes += r.bytes;
  }
  t.diagnostic(`${valueCount} values looked for in ${files} files (${Math.round(bytes / 1e6)} MB)`);
});
