// `hush agent run` end to end: real `hush manager run` and `hush agent run` processes, real mutual
// TLS, real FUSE mounts in temporary directories (needs root and /dev/fuse, like CI).
//
// This process serves no mount, and still reads the mounts only from child processes (`cat`, `stat`,
// `ls`, `sh -c`, `setpriv`, the fd-reader fixture), each with a timeout: a wedged FUSE daemon must
// never hang the runner. No assertion message ever carries a secret value (digests and lengths
// only): the last test scans the disk for every value used here, and test output may land on disk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, chmodSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlUnixClient, unary } from './helpers/grpc.js';
import {
  distinctive, freePort, hush, hushOk, initManager, startManager as startManagerProc,
  type InitializedManager, type LogLine, type RunningManager,
} from './helpers/manager.js';
import { cleanUpAgents, startAgent as startAgentProc, type RunningAgent } from './helpers/agent-process.js';
import { allMounts, canonical, ensureUnmounted, mountsAt, waitUnmounted } from './helpers/mounts.js';
import { catFile, listDir, sh, statFile, type RunResult, type StatResult } from './helpers/proc.js';
import { killReaders, openReader } from './helpers/fd-reader.js';
import { waitUntil } from '../common/testing/wait.js';

const HEARTBEAT = '500ms';
const NOBODY = { uid: 65534, gid: 65534 };
const ROOT = mkdtempSync(join(tmpdir(), 'hush-agent-it-'));
chmodSync(ROOT, 0o755); // other uids (setpriv) must reach the mount points

/** Every secret value used in this file (the last test looks for each on disk). */
const values: Buffer[] = [];
/** Every agent state dir used in this file, and what it may hold at the end. */
const stateDirs: Array<{ dir: string; running: () => boolean; joined: boolean }> = [];

/** Every daemon started here (the last test checks that none logged a value). */
const daemons: Array<{ what: string; stderr: () => string }> = [];

async function startAgent(...args: Parameters<typeof startAgentProc>): Promise<RunningAgent> {
  const a = await startAgentProc(...args);
  daemons.push({ what: `agent ${args[0].hostname}`, stderr: a.stderr });
  return a;
}

async function startManager(...args: Parameters<typeof startManagerProc>): Promise<RunningManager> {
  const m = await startManagerProc(...args);
  daemons.push({ what: `manager ${args[0]}`, stderr: m.stderr });
  return m;
}

let m1: InitializedManager;
let run1: RunningManager;
let m2: InitializedManager | undefined;
let A: RunningAgent;
let B: RunningAgent;

/** A distinctive secret value: random text that cannot occur on disk by chance. */
function secretValue(extraBytes = 0): Buffer {
  const marker = Buffer.from(distinctive('hush-agent-it-value-'));
  values.push(marker);
  return extraBytes ? Buffer.concat([marker, Buffer.from(randomBytes(extraBytes).toString('base64'))]) : marker;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Byte equality that never prints the bytes. */
function assertBytes(actual: Buffer, expected: Buffer, what: string): void {
  assert.ok(actual.equals(expected), `${what}: got ${actual.length} bytes (sha256 ${sha(actual).slice(0, 12)}), want ${expected.length} bytes (sha256 ${sha(expected).slice(0, 12)})`);
}

/** What `cat` read, with its exit and error line when it failed (never the bytes). */
function assertRead(r: RunResult, expected: Buffer, what: string): void {
  const failed = r.code !== 0 ? ` (cat exit ${r.code ?? r.signal}${r.timedOut ? ', timed out' : ''}: ${r.stderr.trim()})` : '';
  assertBytes(r.stdout, expected, `${what}${failed}`);
}

function agentDirs(name: string): { stateDir: string; mount: string } {
  return { stateDir: join(ROOT, `${name}-state`), mount: join(ROOT, `${name}-mnt`) };
}

async function createSecret(env: NodeJS.ProcessEnv, name: string, value: Buffer): Promise<void> {
  await hushOk(['secret', 'create', name, '-'], { env, input: value });
}

/** Waits until `cat path` gives exactly `expected`. */
async function waitFile(path: string, expected: Buffer, timeoutMs = 15_000): Promise<void> {
  await waitUntil(`${path} to hold the expected ${expected.length} bytes`, async () => {
    const r = await catFile(path);
    return r.code === 0 && r.stdout.equals(expected);
  }, timeoutMs);
}

const isMissing = (s: StatResult | { error: string }) => 'error' in s && /No such file or directory/.test(s.error);

function assertMissing(s: StatResult | { error: string }, what: string): void {
  assert.ok(isMissing(s), `${what}: expected ENOENT, got ${JSON.stringify(s)}`);
}

async function waitMissing(path: string, timeoutMs = 15_000): Promise<void> {
  await waitUntil(`${path} to vanish`, async () => isMissing(await statFile(path)), timeoutMs);
}

async function rmServices(env: NodeJS.ProcessEnv, ...names: string[]): Promise<void> {
  for (const n of names) await hush(['service', 'rm', n], { env }); // best effort (cleanup)
}

/** A read of a revoked descriptor fails with EACCES (or EIO). */
function assertRevokedRead(step: { error?: string; len?: number }, what: string): void {
  assert.ok(step.error === 'EACCES' || step.error === 'EIO', `${what}: the old descriptor still reads (${JSON.stringify({ ...step, sha256: undefined })})`);
}

before(async () => {
  m1 = await initManager();
  run1 = await startManager(m1.stateDir, { env: { ...m1.env, HUSH_HEARTBEAT_PERIOD: HEARTBEAT } });
  const a = agentDirs('a');
  const b = agentDirs('b');
  [A, B] = await Promise.all([
    startAgent({ managerPort: run1.port!, token: m1.workerToken, ...a, hostname: 'node-a', labels: { pool: 'p' } }),
    startAgent({ managerPort: run1.port!, token: m1.workerToken, ...b, hostname: 'node-b', labels: { pool: 'p' } }),
  ]);
  stateDirs.push({ dir: a.stateDir, running: () => A.proc.exitCode === null, joined: true });
  stateDirs.push({ dir: b.stateDir, running: () => B.proc.exitCode === null, joined: true });
});

after(async () => {
  killReaders();
  await cleanUpAgents();
  await run1?.stop();
  m1?.remove();
  m2?.remove();
  // Never recurse into a mount: remove the temp root only once nothing is mounted below it.
  const root = await canonical(ROOT);
  const left = (await allMounts()).filter((m) => m.mountPoint.startsWith(root + '/'));
  if (left.length === 0) await fsp.rm(ROOT, { recursive: true, force: true });
  else console.error(`agent.test: left ${ROOT} in place: still mounted below it: ${left.map((m) => m.mountPoint).join(', ')}`);
});

// ---- 1 ----

test('the agent and the manager never write a core dump (they hold secrets in memory)', () => {
  for (const [what, pid] of [['agent', A.proc.pid!], ['manager', run1.proc.pid!]] as const) {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    assert.match(limits, /^Max core file size\s+0\s+0\s/m, `${what}: RLIMIT_CORE is 0`);
  }
});

test('a service\'s secret files appear on its node with the right bytes, owner and mode; the service alias only for a single task; other uids denied; every write is EROFS', { timeout: 60_000 }, async () => {
  const env = m1.env;
  const pw = secretValue();
  const key = secretValue();
  await createSecret(env, 't1-pw', pw);
  await createSecret(env, 't1-key', key);
  await hushOk(['service', 'create', '--name', 't1', '--secret', 'source=t1-pw,target=pw,uid=1000,gid=1000,mode=0440',
    '--secret', 't1-key', '--constraint', 'node.hostname==node-a'], { env });
  try {
    const dir = join(A.mount, 't1.1');
    await waitFile(join(dir, 'pw'), pw);
    assert.deepEqual(await statFile(join(dir, 'pw')), { uid: 1000, gid: 1000, mode: 0o440, size: pw.length, type: 'regular file' });
    const keyRead = await catFile(join(dir, 't1-key'));
    assert.equal(keyRead.code, 0, keyRead.stderr);
    assertBytes(keyRead.stdout, key, 't1.1/t1-key');
    assert.deepEqual(await statFile(join(dir, 't1-key')), { uid: 0, gid: 0, mode: 0o400, size: key.length, type: 'regular file' }, 'default owner 0:0 and mode 0400');

    // One task of t1 on this node: the stable alias t1/ serves the same files.
    assert.deepEqual(await listDir(A.mount), ['t1', 't1.1']);
    assert.deepEqual(await listDir(join(A.mount, 't1')), ['pw', 't1-key']);
    assertBytes((await catFile(join(A.mount, 't1', 'pw'))).stdout, pw, 'alias t1/pw');
    // Node b has none of it.
    assert.deepEqual(await listDir(B.mount), []);

    // Permissions, enforced by the kernel: owner (uid 1000) and group (gid 1000) may read pw (0440);
    // nobody reaches both files (the directory grants search) but may read neither; uid 1000 may not
    // read the 0400 root file.
    assertBytes((await catFile(join(dir, 'pw'), { uid: 1000, gid: 1000 })).stdout, pw, 'pw as its owner');
    assertBytes((await catFile(join(dir, 'pw'), { uid: 1001, gid: 1000 })).stdout, pw, 'pw as a member of its group');
    for (const [file, as] of [['t1-key', NOBODY], ['pw', NOBODY], ['t1-key', { uid: 1000, gid: 1000 }]] as const) {
      const st = await statFile(join(dir, file), as);
      assert.ok(!('error' in st), `stat ${file} as ${as.uid}: ${JSON.stringify(st)} (the directory must let it through, so that the file mode is what denies)`);
      const r = await catFile(join(dir, file), as);
      assert.notEqual(r.code, 0, `cat ${file} as uid ${as.uid} succeeded`);
      assert.match(r.stderr, /Permission denied/, `cat ${file} as uid ${as.uid}`);
      assert.equal(r.stdout.length, 0);
    }

    // Read-only: every kind of write fails with EROFS.
    const f = join(dir, 'pw');
    const writes = [
      `echo x > ${f}`, `echo x >> ${f}`, `echo x > ${dir}/new`, `echo x > ${A.mount}/new`, `rm -f ${f}`, `unlink ${f}`,
      `chmod 0644 ${f}`, `chown 1:1 ${f}`, `mv ${f} ${dir}/renamed`, `mv ${dir} ${A.mount}/moved`, `mkdir ${dir}/sub`,
      `mkdir ${A.mount}/newdir`, `rmdir ${dir}`, `ln -s ${f} ${dir}/link`, `ln ${f} ${dir}/hard`, `touch ${f}`, `truncate -s 0 ${f}`,
    ];
    for (const cmd of writes) {
      const r = await sh(cmd);
      assert.notEqual(r.code, 0, `${cmd}: succeeded`);
      assert.match(r.stderr, /Read-only file system/, `${cmd}: ${r.stderr.trim()}`);
    }
    assertBytes((await catFile(f)).stdout, pw, 'pw after the write attempts');
    assert.deepEqual(await listDir(dir), ['pw', 't1-key']);
    assert.deepEqual(await listDir(A.mount), ['t1', 't1.1']);

    // Two tasks of one service on the node: task directories only, no alias.
    await hushOk(['service', 'create', '--name', 't1two', '--replicas', '2', '--secret', 't1-pw', '--constraint', 'node.hostname==node-a'], { env });
    await waitFile(join(A.mount, 't1two.1', 't1-pw'), pw);
    await waitFile(join(A.mount, 't1two.2', 't1-pw'), pw);
    assert.deepEqual(await listDir(A.mount), ['t1', 't1.1', 't1two.1', 't1two.2']);
    assertMissing(await statFile(join(A.mount, 't1two')), 'alias of a service with two tasks here');
    const status = await A.status();
    assert.deepEqual(status.tasks.map((t) => t.name), ['t1.1', 't1two.1', 't1two.2']);
    assert.ok(!JSON.stringify(status).includes(pw.toString()), 'agent status carries a secret value');
  } finally {
    await rmServices(env, 't1', 't1two');
  }
  await waitUntil('node a to be empty', async () => JSON.stringify(await listDir(A.mount)) === '[]');
});

// ---- 2 ----

test('service rm: the files are gone as soon as the command returns, and a descriptor opened before fails its next read', { timeout: 60_000 }, async () => {
  const env = m1.env;
  const v = secretValue();
  await createSecret(env, 't2-s', v);
  await hushOk(['service', 'create', '--name', 't2', '--secret', 't2-s', '--constraint', 'node.hostname==node-a'], { env });
  try {
    const file = join(A.mount, 't2.1', 't2-s');
    const alias = join(A.mount, 't2', 't2-s');
    await waitFile(file, v);
    const r1 = await openReader(file);
    const r2 = await openReader(alias);
    try {
      assert.deepEqual(r1.first, { step: 'open', len: v.length, sha256: sha(v) });
      assert.deepEqual(r2.first, { step: 'open', len: v.length, sha256: sha(v) });
      await hushOk(['service', 'rm', 't2'], { env });
      // At once: the very first lookups after the command returned.
      assertMissing(await statFile(file), 'task file right after service rm');
      assertMissing(await statFile(alias), 'alias right after service rm');
      assertMissing(await statFile(join(A.mount, 't2.1')), 'task directory right after service rm');
      assertRevokedRead(await r1.read(), 'descriptor opened through the task directory');
      assertRevokedRead(await r2.read(), 'descriptor opened through the alias');
      assert.deepEqual(await listDir(A.mount), []);
    } finally {
      await r1.close();
      await r2.close();
    }
  } finally {
    await rmServices(env, 't2');
  }
});

// ---- 3 ----

test('service update --secret-rm revokes on the node; draining a node moves its task: its files vanish and the other node serves them', { timeout: 60_000 }, async () => {
  const env = m1.env;
  const keep = secretValue();
  const drop = secretValue();
  await createSecret(env, 't3-keep', keep);
  await createSecret(env, 't3-drop', drop);
  await hushOk(['service', 'create', '--name', 't3', '--secret', 't3-keep', '--secret', 't3-drop', '--constraint', 'node.hostname==node-a'], { env });
  try {
    const dir = join(A.mount, 't3.1');
    await waitFile(join(dir, 't3-drop'), drop);
    const reader = await openReader(join(dir, 't3-drop'));
    try {
      assert.equal(reader.first.sha256, sha(drop));
      await hushOk(['service', 'update', 't3', '--secret-rm', 't3-drop'], { env });
      assertMissing(await statFile(join(dir, 't3-drop')), 'removed reference right after service update');
      assertMissing(await statFile(join(A.mount, 't3', 't3-drop')), 'removed reference through the alias');
      assertRevokedRead(await reader.read(), 'descriptor of the removed reference');
      assertBytes((await catFile(join(dir, 't3-keep'))).stdout, keep, 'the other reference stays');
      assert.deepEqual(await listDir(dir), ['t3-keep']);
      const files = (await A.status()).tasks.flatMap((t) => t.files.map((f) => f.secret));
      assert.deepEqual(files, ['t3-keep']);
    } finally {
      await reader.close();
    }
  } finally {
    await rmServices(env, 't3');
  }

  // Drain: a task that may run on either node; b is drained first so that it lands on a.
  const moving = secretValue();
  await createSecret(env, 't3-move', moving);
  await hushOk(['node', 'update', 'node-b', '--availability', 'drain'], { env });
  try {
    await hushOk(['service', 'create', '--name', 't3move', '--secret', 't3-move', '--constraint', 'node.labels.pool==p'], { env });
    await waitFile(join(A.mount, 't3move.1', 't3-move'), moving);
    assert.deepEqual(await listDir(B.mount), []);
    const reader = await openReader(join(A.mount, 't3move', 't3-move'));
    try {
      await hushOk(['node', 'update', 'node-b', '--availability', 'active'], { env });
      await hushOk(['node', 'update', 'node-a', '--availability', 'drain'], { env });
      await waitMissing(join(A.mount, 't3move.1', 't3-move'));
      assertMissing(await statFile(join(A.mount, 't3move', 't3-move')), 'alias on the drained node');
      assertRevokedRead(await reader.read(), 'descriptor on the drained node');
      await waitFile(join(B.mount, 't3move', 't3-move'), moving);
      assert.deepEqual(await listDir(A.mount), []);
      const names = (await listDir(B.mount)) as string[];
      assert.equal(names.length, 2, JSON.stringify(names));
      assert.ok(names.includes('t3move') && names.some((n) => /^t3move\.\d+$/.test(n)), JSON.stringify(names));
      assert.deepEqual((await A.status()).tasks, []);
      assert.deepEqual((await B.status()).tasks.map((t) => t.service), ['t3move']);
    } finally {
      await reader.close();
    }
  } finally {
    await hush(['node', 'update', 'node-a', '--availability', 'active'], { env });
    await hush(['node', 'update', 'node-b', '--availability', 'active'], { env });
    await rmServices(env, 't3move');
  }
  await waitUntil('node b to be empty', async () => JSON.stringify(await listDir(B.mount)) === '[]');
});

// ---- 4 ----

test('secret update: a new open sees v2 while a descriptor opened before keeps reading v1 whole', { timeout: 60_000 }, async () => {
  const env = m1.env;
  const v1 = secretValue(300_000); // several FUSE reads (direct_io, 128 KiB each)
  const v2 = secretValue();
  await createSecret(env, 't4-s', v1);
  await hushOk(['service', 'create', '--name', 't4', '--secret', 't4-s', '--constraint', 'node.hostname==node-a'], { env });
  try {
    const file = join(A.mount, 't4', 't4-s');
    await waitFile(file, v1);
    const reader = await openReader(file);
    try {
      assert.deepEqual(reader.first, { step: 'open', len: v1.length, sha256: sha(v1) });
      await hushOk(['secret', 'update', 't4-s', '-'], { env, input: v2 });
      await waitFile(file, v2);
      assert.deepEqual(await statFile(file), { uid: 0, gid: 0, mode: 0o400, size: v2.length, type: 'regular file' });
      assert.deepEqual(await reader.read(), { step: 'read', len: v1.length, sha256: sha(v1) }, 'the old descriptor reads v1, whole');
      assertBytes((await catFile(join(A.mount, 't4.1', 't4-s'))).stdout, v2, 'a new open through the task directory');
      assert.deepEqual(await reader.read(), { step: 'read', len: v1.length, sha256: sha(v1) }, 'and again');
      assert.deepEqual((await A.status()).tasks.flatMap((t) => t.files.map((f) => f.version)), [2]);
    } finally {
      await reader.close();
    }
  } finally {
    await rmServices(env, 't4');
  }
});

test('a node entitled to more than one gRPC message can carry (140 secrets of ~500 KB, 71 MB) serves them all', { timeout: 120_000 }, async () => {
  const control = controlUnixClient(m1.stateDir);
  const refs = [];
  const big: Buffer[] = [];
  try {
    for (let i = 0; i < 140; i++) {
      const value = secretValue(380_000); // the marker + base64 of 380,000 random bytes: < 511,999 bytes
      big.push(value);
      await unary(control, 'CreateSecret', { name: `big-${i}`, data: value, labels: {} }, 30_000);
      refs.push({ secretName: `big-${i}`, target: `f${i}`, uid: 0, gid: 0, mode: 0o400 });
    }
    assert.ok(big.reduce((n, v) => n + v.length, 0) > 64 * 1024 * 1024, 'more than the agent\'s 64 MiB receive limit');
    await unary(control, 'CreateService', { name: 'big', replicas: 1, secrets: refs, constraints: ['node.hostname==node-a'] }, 30_000);
    await waitFile(join(A.mount, 'big', 'f139'), big[139], 60_000);
    for (const i of [0, 1, 70, 138]) assertRead(await catFile(join(A.mount, 'big', `f${i}`)), big[i], `f${i}`);
    const [task] = (await A.status()).tasks.filter((t) => t.name === 'big.1');
    assert.equal(task?.files.length, 140, 'the agent status lists all 140 files');
  } catch (err) {
    // What the daemons said of node states and the connection meanwhile (they never log a value).
    const said = (logs: LogLine[]) => logs.filter((l) => /node (down|ready)|heartbeat|stream|reconnect|assign/i.test(String(l.msg))).slice(-20).map((l) => JSON.stringify(l)).join('\n');
    throw new Error(`${(err as Error).message}\nmanager:\n${said(run1.logs)}\nagent:\n${said(A.logs)}`);
  } finally {
    await rmServices(m1.env, 'big');
    control.close();
  }
  await waitMissing(join(A.mount, 'big', 'f0'));
});

// ---- 5 ----

test('two agents on one machine: each mount and each `agent status` shows only its own node\'s tasks', { timeout: 60_000 }, async () => {
  const env = m1.env;
  const va = secretValue();
  const vb = secretValue();
  await createSecret(env, 't5-a', va);
  await createSecret(env, 't5-b', vb);
  await hushOk(['service', 'create', '--name', 't5a', '--secret', 't5-a', '--constraint', 'node.hostname==node-a'], { env });
  await hushOk(['service', 'create', '--name', 't5b', '--secret', 't5-b', '--constraint', 'node.hostname==node-b'], { env });
  try {
    await waitFile(join(A.mount, 't5a', 't5-a'), va);
    await waitFile(join(B.mount, 't5b', 't5-b'), vb);
    assert.deepEqual(await listDir(A.mount), ['t5a', 't5a.1']);
    assert.deepEqual(await listDir(B.mount), ['t5b', 't5b.1']);
    for (const p of ['t5b', 't5b.1', 't5b/t5-b', 't5b.1/t5-b']) assertMissing(await statFile(join(A.mount, p)), `${p} on node a`);
    for (const p of ['t5a', 't5a.1', 't5a/t5-a', 't5a.1/t5-a']) assertMissing(await statFile(join(B.mount, p)), `${p} on node b`);

    const [sa, sb] = await Promise.all([A.status(), B.status()]);
    assert.notEqual(sa.nodeId, sb.nodeId);
    assert.equal(sa.mount, A.mount);
    assert.equal(sb.mount, B.mount);
    assert.equal(sa.connection.state, 'connected');
    assert.deepEqual(sa.tasks.map((t) => [t.name, t.service, t.files.map((f) => [f.path, f.secret, f.version, f.mode])]),
      [['t5a.1', 't5a', [[join(A.mount, 't5a.1', 't5-a'), 't5-a', 1, '0400']]]]);
    assert.deepEqual(sb.tasks.map((t) => [t.name, t.service, t.files.map((f) => [f.path, f.secret, f.version, f.mode])]),
      [['t5b.1', 't5b', [[join(B.mount, 't5b.1', 't5-b'), 't5-b', 1, '0400']]]]);
    // The manager agrees on where each task is.
    const ps = (await hushOk(['service', 'ps', 't5a', '--format', 'json'], { env })).stdout.trim().split('\n').map((l) => JSON.parse(l) as { nodeId: string });
    assert.deepEqual(ps.map((t) => t.nodeId), [sa.nodeId]);
    // The human form lists only its own files too.
    const text = (await hushOk(['agent', 'status', '--state-dir', A.stateDir])).stdout;
    assert.match(text, /t5a\.1/);
    assert.doesNotMatch(text, /t5b/);
  } finally {
    await rmServices(env, 't5a', 't5b');
  }
});

// ---- anchors ----

test('per-task anchors (--anchors DIR): `agent status` lists them; a consumer bound to DIR/<task> with rslave reads again after kill -9 + start and after SIGTERM + start; service rm detaches', { timeout: 90_000 }, async (t) => {
  const env = m1.env;
  const { stateDir, mount } = agentDirs('d');
  const anchors = join(ROOT, 'd-anchors');
  const consumer = join(ROOT, 'd-consumer');
  let D: RunningAgent | undefined;
  let nodeId: string | undefined;
  stateDirs.push({ dir: stateDir, running: () => D?.proc.exitCode === null, joined: true });
  const v = secretValue();
  await createSecret(env, 't7-s', v);
  const cat = async (p: string) => {
    const r = await catFile(p);
    return r.code === 0 ? (r.stdout.equals(v) ? 'ok' : 'other bytes') : r.stderr.trim();
  };
  try {
    D = await startAgent({ managerPort: run1.port!, token: m1.workerToken, stateDir, mount, anchors, hostname: 'node-d' });
    await hushOk(['service', 'create', '--name', 't7', '--secret', 't7-s', '--constraint', 'node.hostname==node-d'], { env });
    const anchored = join(anchors, 't7.1', 'secrets', 't7-s');
    await waitFile(anchored, v);
    assert.deepEqual((await allMounts()).filter((m) => m.mountPoint.startsWith(anchors + '/')).map((m) => [m.mountPoint, m.fstype]),
      [[join(anchors, 't7.1', 'secrets'), 'fuse']], 'one bind, for the task (not for the alias t7)');
    const st = await D.status();
    nodeId = st.nodeId;
    assert.equal(st.anchors, anchors);
    assert.deepEqual(st.tasks.map((x) => [x.name, x.anchor]), [['t7.1', join(anchors, 't7.1')]]);
    const text = (await hushOk(['agent', 'status', '--state-dir', stateDir])).stdout;
    assert.match(text, new RegExp(`Anchors: +${anchors} `));
    assert.match(text, new RegExp(`t7\\.1 +${join(anchors, 't7.1')} +${join(anchors, 't7.1', 'secrets')}/`));

    // A consumer as Docker makes it for --mount type=bind,source=DIR/t7.1,target=...,bind-propagation=rslave.
    await fsp.mkdir(consumer);
    for (const args of [['--rbind', join(anchors, 't7.1'), consumer], ['--make-rslave', consumer]]) {
      const r = await sh(`mount ${args.map((a) => `'${a}'`).join(' ')}`);
      assert.equal(r.code, 0, r.stderr);
    }
    const file = join(consumer, 'secrets', 't7-s');
    assert.equal(await cat(file), 'ok');

    // kill -9: the consumer's copy of the bind is dead (ENOTCONN) until the agent starts again.
    await D.kill9();
    assert.ok(await waitUnmounted(mount, 5000));
    assert.match(await cat(file), /Transport endpoint is not connected/);
    D = await startAgent({ managerPort: run1.port!, stateDir, mount, anchors, hostname: 'node-d' });
    assert.ok(D.logs.some((l) => /^detached mounts left in the anchor directory/.test(String(l.msg)) && (l as { detached?: number }).detached === 1), `the restarted agent did not report the dead bind: ${D.stderr().split('\n').filter((l) => /anchor/.test(l)).join('\n')}`);
    await waitFile(file, v);
    t.diagnostic('kill -9 + start: the rslave consumer of the anchor reads again');

    // SIGTERM: the agent detaches its anchors (ENOENT for the consumer), the next one binds again.
    await D.stop();
    assert.match(await cat(file), /No such file or directory/);
    assert.deepEqual((await allMounts()).filter((m) => m.mountPoint.startsWith(anchors + '/')), [], 'a stopped agent leaves no bind');
    assert.equal((await mountsAt(anchors)).length, 1, 'the anchor directory itself stays a mount point');
    D = await startAgent({ managerPort: run1.port!, stateDir, mount, anchors, hostname: 'node-d' });
    await waitFile(file, v);
    t.diagnostic('SIGTERM + start: the rslave consumer of the anchor reads again');

    // Revocation: service rm detaches the anchor, for the consumer too.
    await hushOk(['service', 'rm', 't7'], { env });
    await waitMissing(file);
    await waitUntil('the anchor to be detached', async () => (await allMounts()).every((m) => !m.mountPoint.startsWith(anchors + '/')));
    assert.deepEqual((await D.status()).tasks, []);
  } finally {
    await rmServices(env, 't7');
    await sh(`umount -l '${consumer}' 2>/dev/null; true`);
    await D?.stop();
    // The other tests count the nodes of this manager.
    if (nodeId) await hush(['node', 'rm', '--force', nodeId], { env });
  }
});

// ---- 6 ----

test('resilience: kill -9 and restart; the manager stops and comes back with a removal; node rm --force stops the agent', { timeout: 90_000 }, async (t) => {
  m2 = await initManager();
  const port = await freePort();
  const env = m2.env;
  const menv = { ...m2.env, HUSH_HEARTBEAT_PERIOD: HEARTBEAT };
  const listen = `127.0.0.1:${port}`;
  let run2: RunningManager | undefined = await startManager(m2.stateDir, { listen, env: menv });
  const { stateDir, mount } = agentDirs('c');
  let C: RunningAgent | undefined;
  stateDirs.push({ dir: stateDir, running: () => C?.proc.exitCode === null, joined: true });
  try {
    C = await startAgent({ managerPort: port, token: m2.workerToken, stateDir, mount, hostname: 'node-c' });
    const v = secretValue();
    await createSecret(env, 't6-s', v);
    await hushOk(['service', 'create', '--name', 'web', '--secret', 't6-s'], { env });
    const file = join(mount, 'web', 't6-s');
    await waitFile(file, v);

    // kill -9: no clean unmount; the auto_unmount helper detaches the mount. The restart (same state
    // dir, no token) gets the secrets back from the manager.
    await C.kill9();
    assert.ok(await waitUnmounted(mount, 5000), 'the mount of the killed agent is still there');
    C = await startAgent({ managerPort: port, stateDir, mount, hostname: 'node-c' });
    assert.ok(C.logs.some((l) => l.msg === 'loaded node identity'), 'the restarted agent did not load its identity');
    assert.ok(!C.logs.some((l) => l.msg === 'joined the cluster'), 'the restarted agent joined again');
    await waitFile(file, v);

    // kill -9 of the agent and its children at once (systemd kills the whole unit): the helper dies
    // too and a dead mount stays behind. The restart must clear it: the mount point is not stale.
    const children = await C.killTree9();
    assert.ok(children.length > 0, 'the agent had no auto_unmount helper');
    const stale = await listDir(mount);
    t.diagnostic(`after kill -9 of the agent and ${children.length} child(ren), ls of the mount point: ${JSON.stringify(stale)}`);
    assert.deepEqual(stale, { error: `ls: cannot access '${mount}': Transport endpoint is not connected` }, 'no dead mount to recover from');
    C = await startAgent({ managerPort: port, stateDir, mount, hostname: 'node-c' });
    assert.ok(C.logs.some((l) => /dead FUSE mount|detaching a FUSE mount/.test(String(l.msg))), 'the restarted agent did not report the dead mount');
    const ls = await listDir(mount);
    assert.ok(Array.isArray(ls), `ls of the mount point after the restart: ${JSON.stringify(ls)}`);
    assert.equal((await mountsAt(mount)).length, 1, 'exactly one mount at the mount point');
    await waitFile(file, v);
    await waitFile(join(mount, 'web.1', 't6-s'), v);

    // The manager stops: the agent keeps serving what it holds, and says it is disconnected.
    const reader = await openReader(file);
    try {
      assert.equal(reader.first.sha256, sha(v));
      await run2.stop();
      run2 = undefined;
      await waitUntil('agent status to say disconnected', async () => (await C!.status()).connection.state === 'disconnected');
      assertBytes((await catFile(file)).stdout, v, 'a new open while the manager is down');
      assert.deepEqual(await reader.read(), { step: 'read', len: v.length, sha256: sha(v) });
      const down = await C.status();
      assert.deepEqual(down.tasks.map((x) => x.name), ['web.1']);
      assert.ok(down.connection.lastError, 'no lastError while disconnected');

      // The service is removed while the agent cannot reach the manager: the manager runs again,
      // first on another port (the agent keeps backing off), then on its own. The agent's first
      // COMPLETE on reconnect lacks the task, and that alone revokes the file.
      const elsewhere = await startManager(m2.stateDir, { listen: `127.0.0.1:${await freePort()}`, env: menv });
      try {
        await hushOk(['service', 'rm', 'web'], { env });
      } finally {
        await elsewhere.stop();
      }
      assertBytes((await catFile(file)).stdout, v, 'still served until the agent hears of the removal');
      assert.equal((await C.status()).connection.state === 'connected', false, 'the agent reached a manager it cannot know of');
      const since = C.logs.length;
      run2 = await startManager(m2.stateDir, { listen, env: menv });
      const complete: LogLine = await C.waitForLog('assignments complete', 30_000, since);
      assert.equal(complete.tasks, 0, 'the first COMPLETE after the reconnect still held the task');
      assertMissing(await statFile(file), 'alias right after the COMPLETE');
      assertMissing(await statFile(join(mount, 'web.1', 't6-s')), 'task file right after the COMPLETE');
      assert.deepEqual(await listDir(mount), []);
      assertRevokedRead(await reader.read(), 'descriptor opened before the manager went down');
      const up = await C.status();
      assert.equal(up.connection.state, 'connected');
      assert.deepEqual(up.tasks, []);
    } finally {
      await reader.close();
    }

    // node rm --force: the cluster refuses the node; the agent revokes everything, unmounts and exits ≠ 0.
    const since = C.logs.length;
    await hushOk(['node', 'rm', '--force', 'node-c'], { env });
    const exit = await C.waitExit(15_000);
    assert.equal(exit.signal, null);
    assert.notEqual(exit.code, 0);
    const fatal = C.logs.slice(since).find((l) => (l.level ?? 0) >= 60);
    assert.ok(fatal, `no fatal log line after node rm:\n${C.stderr()}`);
    assert.match(String(fatal.msg), /refused this node/);
    assert.match(String(fatal.reason), /removed/);
    assert.deepEqual(await mountsAt(mount), [], 'the agent exited and left its mount');
    const gone = await listDir(mount);
    assert.ok(Array.isArray(gone) && gone.length === 0, `the mount point after node rm: ${JSON.stringify(gone)}`);
    // The state dir keeps only the (now useless) identity; a restart is refused by the cluster.
    assert.deepEqual((await fsp.readdir(stateDir)).sort(), ['identity.json']);
    const again = await startAgent({ managerPort: port, stateDir, mount, hostname: 'node-c', waitFor: null });
    const againExit = await again.waitExit(15_000);
    assert.notEqual(againExit.code, 0);
    assert.ok(await waitUnmounted(mount, 5000), 'the refused agent left its mount');
  } finally {
    await C?.stop();
    await ensureUnmounted(mount);
    await run2?.stop();
  }
});

// ---- 7 ----

test('a denied or unknown join token: `hush agent run` exits ≠ 0 with one error line and leaves no mount', { timeout: 60_000 }, async (t) => {
  const env = m1.env;
  const digest = m1.workerToken.split('-')[2];
  const unknown = `HUSH-1-${digest}-${randomBytes(32).toString('hex').replace(/[^0-9a-z]/g, '').slice(0, 25).padEnd(25, '0')}`;
  // A rotated token is refused from then on.
  const rotated = m1.workerToken;
  await hushOk(['join-token', 'worker', '--rotate', '-q'], { env });
  const other = await initManager();
  other.remove();
  const cases = [
    { what: 'unknown token', token: unknown, error: /^Error: cannot join via 127\.0\.0\.1:\d+: invalid join token/ },
    { what: 'rotated (old) token', token: rotated, error: /^Error: cannot join via 127\.0\.0\.1:\d+: invalid join token/ },
    { what: 'token of another cluster', token: other.workerToken, error: /^Error: cannot join via 127\.0\.0\.1:\d+: .*root CA that does not match the join token/ },
  ];
  for (const [i, c] of cases.entries()) {
    const { stateDir, mount } = agentDirs(`denied${i}`);
    stateDirs.push({ dir: stateDir, running: () => false, joined: false });
    const started = Date.now();
    const agent = await startAgent({ managerPort: run1.port!, token: c.token, stateDir, mount, hostname: `node-denied-${i}`, waitFor: null });
    const exit = await agent.waitExit(15_000);
    await agent.stop(); // nothing left to stop: makes sure nothing is mounted
    assert.equal(exit.signal, null, c.what);
    assert.notEqual(exit.code, 0, c.what);
    const lines = agent.stderr().split('\n');
    assert.ok(lines.length === 2 && lines[1] === '', `${c.what}: expected exactly one line on stderr, got ${JSON.stringify(agent.stderr())}`);
    const errors = [lines[0]];
    assert.match(errors[0], c.error, c.what);
    // A refusal is final: no retrying with backoff (seconds), no "no manager reachable".
    assert.ok(Date.now() - started < 10_000, `${c.what}: took ${Date.now() - started} ms`);
    assert.equal(agent.stdout(), '', c.what);
    assert.deepEqual(await mountsAt(mount), [], `${c.what}: left a mount`);
    assert.deepEqual((await fsp.readdir(stateDir).catch(() => [])), [], `${c.what}: wrote to its state dir`);
    const nodes = (await hushOk(['node', 'ls', '-q'], { env })).stdout.trim().split('\n');
    assert.equal(nodes.length, 2, `${c.what}: a node was created`);
    t.diagnostic(`${c.what}: exited ${exit.code} after ${Date.now() - started} ms: ${errors[0]}`);
  }
});

// ---- 8 ----

async function scanForValues(root: string, needles: Buffer[], skip: Set<string>): Promise<{ files: number; bytes: number; hits: string[] }> {
  const out = { files: 0, bytes: 0, hits: [] as string[] };
  const walk = async (dir: string): Promise<void> => {
    let entries: string[];
    try {
      entries = await fsp.readdir(dir);
    } catch {
      return; // gone or unreadable
    }
    for (const name of entries) {
      const path = join(dir, name);
      if (skip.has(path)) continue;
      let st;
      try {
        st = await fsp.lstat(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        await walk(path);
        continue;
      }
      // Regular files only: no sockets, FIFOs (an open would block), devices or symlinks.
      if (!st.isFile() || st.size === 0 || st.size > 256 * 1024 * 1024) continue;
      let data: Buffer;
      try {
        data = await fsp.readFile(path);
      } catch {
        continue;
      }
      out.files++;
      out.bytes += data.length;
      for (const n of needles) if (data.includes(n)) out.hits.push(path);
    }
  };
  await walk(root);
  return out;
}

test('no byte of any secret on disk: agent state dirs hold only identity.json (0600) and agent.sock; nothing in them or in the temp dir holds a value', { timeout: 60_000 }, async (t) => {
  assert.ok(values.length >= 10, 'the earlier tests used the values');
  // The state dirs: 0700, identity.json 0600 (+ agent.sock while running), nothing else.
  for (const s of stateDirs) {
    const names = (await fsp.readdir(s.dir).catch(() => [] as string[])).sort();
    const want = s.joined ? (s.running() ? ['agent.sock', 'identity.json'] : ['identity.json']) : [];
    assert.deepEqual(names, want, s.dir);
    if (!s.joined) continue;
    assert.equal((await fsp.stat(s.dir)).mode & 0o777, 0o700, `${s.dir} mode`);
    assert.equal((await fsp.stat(join(s.dir, 'identity.json'))).mode & 0o777, 0o600, `${s.dir}/identity.json mode`);
    if (s.running()) {
      const sock = await fsp.stat(join(s.dir, 'agent.sock'));
      assert.ok(sock.isSocket() && (sock.mode & 0o777) === 0o600, `${s.dir}/agent.sock`);
    }
  }
  // The values, as written and in the encodings a careless log would use.
  const needles = values.flatMap((v) => [v, Buffer.from(v.toString('base64')), Buffer.from(v.toString('hex'))]);
  // Never read through a mount (the agents' own would of course show the values): skip every mount point.
  const skip = new Set((await allMounts()).map((m) => m.mountPoint));
  const roots = [...new Set([...stateDirs.map((s) => s.dir), await fsp.realpath(tmpdir())])];
  let files = 0;
  let bytes = 0;
  const hits: string[] = [];
  for (const root of roots) {
    skip.delete(root);
    const r = await scanForValues(root, needles, skip);
    files += r.files;
    bytes += r.bytes;
    hits.push(...r.hits);
  }
  t.diagnostic(`scanned ${files} files (${bytes} bytes) for ${values.length} values`);
  assert.deepEqual([...new Set(hits)], [], 'files holding a test secret value');
  // Nor in any log (journald would write them to disk): ids and names only.
  for (const d of daemons) {
    const log = Buffer.from(d.stderr());
    assert.ok(log.length > 0, `${d.what}: no log`);
    assert.ok(!needles.some((n) => log.includes(n)), `${d.what} logged a secret value`);
  }

  // A clean stop (SIGTERM): exit 0, the mount gone before the process is, only the identity left.
  assert.ok(A.proc.exitCode === null && B.proc.exitCode === null, 'agents a and b stopped during the tests');
  A.proc.kill('SIGTERM');
  assert.deepEqual(await A.waitExit(10_000), { code: 0, signal: null });
  assert.deepEqual(await mountsAt(A.mount), [], 'agent a exited and left its mount');
  assert.deepEqual(await listDir(A.mount), []);
  assert.deepEqual((await fsp.readdir(A.stateDir)).sort(), ['identity.json']);
});
