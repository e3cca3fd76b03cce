// Task and alias names never collide on the mount (issue 8, item 1), with the real CLI, a real
// `hush manager run` and a real `hush agent run` with its FUSE mount. The repro: `web`'s task 1 is
// `<mount>/web.1`, which a global service named `web.1` would also take; such a name is refused, and a
// service stored with a dot by an older manager is never placed nor sent. No assertion message carries
// a secret value (digests only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlUnixClient, statusName, unaryError } from './helpers/grpc.js';
import {
  distinctive, freePort, hush, hushOk, initManager, oneErrorLine, startManager,
  type InitializedManager, type RunningManager,
} from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { allMounts, canonical } from './helpers/mounts.js';
import { catFile, listDir } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';
import { openSqliteStore } from '../manager/store/sqlite.js';
import { STORE_FILE } from '../manager/cluster/init.js';
import { encode, keys, type ServiceRecord, type TaskRecord } from '../manager/state/records.js';
import { newId } from '../common/ids.js';

const ROOT = mkdtempSync(join(tmpdir(), 'hush-names-it-'));
chmodSync(ROOT, 0o755);

let m: InitializedManager;
let run: RunningManager;
let listen: string;
let A: RunningAgent;
let nodeId: string;
const webValue = Buffer.from(distinctive('hush-names-web-'));
const globValue = Buffer.from(distinctive('hush-names-glob-'));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 12);

async function waitBytes(path: string, expected: Buffer, what: string): Promise<void> {
  let last = '';
  await waitUntil(`${what} (${path}: sha256 ${sha(expected)}, last ${last})`, async () => {
    const r = await catFile(path);
    last = r.code === 0 ? `sha256 ${sha(r.stdout)}` : r.stderr.trim();
    return r.code === 0 && r.stdout.equals(expected);
  }, 20_000);
}

/** `hush agent status`: no path listed twice. */
async function assertStatusPathsUnique(what: string): Promise<string[]> {
  const paths = (await A.status()).tasks.flatMap((t) => t.files.flatMap((f) => (f.path === null ? [] : [f.path])));
  assert.equal(new Set(paths).size, paths.length, `${what}: \`hush agent status\` lists a path twice: ${paths.join(', ')}`);
  return paths;
}

before(async () => {
  m = await initManager();
  listen = `127.0.0.1:${await freePort()}`;
  run = await startManager(m.stateDir, { listen });
  A = await startAgent({ managerPort: run.port!, token: m.workerToken, stateDir: join(ROOT, 'a-state'), mount: join(ROOT, 'a-mnt'), hostname: 'node-a' });
  nodeId = (await A.status()).nodeId;
  await hushOk(['secret', 'create', 's', '-'], { env: m.env, input: webValue });
  await hushOk(['secret', 'create', 'glob', '-'], { env: m.env, input: globValue });
});

after(async () => {
  await cleanUpAgents();
  await run?.stop();
  m?.remove();
  const root = await canonical(ROOT);
  const left = (await allMounts()).filter((x) => x.mountPoint.startsWith(root + '/'));
  if (left.length === 0) rmSync(ROOT, { recursive: true, force: true });
  else console.error(`names.test: left ${ROOT} in place: still mounted below it: ${left.map((x) => x.mountPoint).join(', ')}`);
});

test('the repro: `service create --name web.1` is refused with one line (CLI and manager); <mount>/web.1/pw is web\'s task 1 secret', { timeout: 90_000 }, async () => {
  await hushOk(['service', 'create', '--name', 'web', '--secret', 'source=s,target=pw', '--constraint', `node.id==${nodeId}`], { env: m.env });
  const refused = await hush(['service', 'create', '--name', 'web.1', '--mode', 'global', '--secret', 'source=glob,target=pw', '--constraint', `node.id==${nodeId}`], { env: m.env });
  assert.notEqual(refused.code, 0);
  assert.equal(refused.stdout, '');
  assert.match(oneErrorLine(refused), /^Error: invalid service name "web\.1": at most 63 letters, digits, '-' and '_', starting and ending with a letter or digit; no '\.' \(a task is named <service>\.<slot>\)$/);
  // The manager refuses it too, whatever the client: same message, INVALID_ARGUMENT.
  const control = controlUnixClient(m.stateDir);
  try {
    for (const mode of ['global', 'replicated']) {
      const e = await unaryError(control, 'CreateService', { name: 'web.1', mode, replicas: 0, secrets: [{ source: 'glob', target: 'pw' }], constraints: [], labels: {} });
      assert.equal(statusName(e.code), 'INVALID_ARGUMENT');
      assert.match(e.details, /^invalid service name "web\.1": at most 63 letters, digits, '-' and '_', .*no '\.'/);
    }
  } finally {
    control.close();
  }
  const listed = (await hushOk(['service', 'ls', '--format', 'json'], { env: m.env })).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name);
  assert.deepEqual(listed, ['web'], 'nothing stored for the refused name');

  await waitBytes(join(A.mount, 'web.1', 'pw'), webValue, 'web\'s task 1 is served at <mount>/web.1');
  await waitBytes(join(A.mount, 'web', 'pw'), webValue, 'web\'s alias');
  assert.deepEqual(await listDir(A.mount), ['web', 'web.1']);
  assert.deepEqual(await assertStatusPathsUnique('after the repro'), [join(A.mount, 'web.1', 'pw')]);
});

test('a global `web.1` stored by an older manager, already placed: after a restart it is not placed, not sent, logged once; <mount>/web.1/pw stays web\'s', { timeout: 120_000 }, async () => {
  const [{ id: globId }] = JSON.parse((await hushOk(['secret', 'inspect', 'glob'], { env: m.env })).stdout) as Array<{ id: string }>;
  await run.stop();
  // What an older manager stored: the service, its name, and its task on the node.
  const now = Date.now();
  const service: ServiceRecord = {
    id: newId(), name: 'web.1', mode: 'global', replicas: 0, constraints: [`node.id==${nodeId}`], labels: {}, createdAtMs: now, updatedAtMs: now,
    secrets: [{ secretId: globId, secretName: 'glob', target: 'pw', uid: 0, gid: 0, mode: 0o400 }],
  };
  const task: TaskRecord = {
    id: newId(), serviceId: service.id, serviceName: service.name, slot: 0, forNodeId: nodeId, nodeId,
    desiredState: 'running', state: 'ready', message: '', createdAtMs: now, stateSinceMs: now,
  };
  const store = openSqliteStore(join(m.stateDir, STORE_FILE));
  try {
    const r = await store.txn([], [
      { type: 'put', key: keys.service(service.id), value: encode(service) },
      { type: 'put', key: keys.serviceName(service.name), value: Buffer.from(service.id) },
      { type: 'put', key: keys.task(task.id), value: encode(task) },
    ]);
    assert.ok(r.ok);
  } finally {
    await store.close();
  }
  const since = A.logs.length;
  run = await startManager(m.stateDir, { listen });
  await A.waitForLog('assignments complete', 60_000, since);

  await waitUntil('the manager to log the refused service', () => run.logs.some((l) => /^service name "web\.1" is not valid/.test(String(l.msg))), 20_000);
  const ps = async () => (await hushOk(['service', 'ps', 'web.1', '--format', 'json'], { env: m.env })).stdout.trim();
  await waitUntil('the old task of web.1 to be gone', async () => (await ps()) === '', 20_000);
  // Another change (more passes of the orchestrator) logs nothing more about it.
  await hushOk(['service', 'update', 'web', '--replicas', '2'], { env: m.env });
  await waitBytes(join(A.mount, 'web.2', 'pw'), webValue, 'web\'s task 2');
  const refusals = run.logs.filter((l) => /is not valid/.test(String(l.msg)));
  assert.equal(refusals.length, 1, 'logged once');
  assert.equal(refusals[0].service, 'web.1');

  await waitBytes(join(A.mount, 'web.1', 'pw'), webValue, 'web\'s task 1 keeps <mount>/web.1');
  assert.deepEqual(await listDir(A.mount), ['web.1', 'web.2'], 'two tasks of web, no alias, nothing of the old web.1');
  await assertStatusPathsUnique('after the restart');
  for (const d of [run.stderr(), A.stderr()]) {
    assert.ok(!d.includes(webValue.toString()) && !d.includes(globValue.toString()), 'no value in a log');
  }
  // It can still be removed.
  await hushOk(['service', 'rm', 'web.1'], { env: m.env });
});
