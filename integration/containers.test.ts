// hush secrets inside real Docker containers: a private dockerd (Debian's docker.io, see
// helpers/docker.ts), a real `hush manager run`, real `hush agent run` processes with real FUSE mounts
// under /tmp/hush-ctr-XXXX, and busybox containers that bind-mount a task's directory of the mount.
//
//   1. a running container reads its secret; `hush service rm` makes its reads fail (ENOENT);
//   2. isolation: a container sees only the task directory it bind-mounts; file modes hold inside
//      containers (--user 65534 denied, --user 1000 reads its own 0400 file);
//   3. agent restart, MEASURED, with the recommended `-v <mount>/<task>:/run/secrets:ro`: the running
//      container never recovers (ENOTCONN for good) — the known limitation, asserted as measured and
//      printed;
//   4. the mount-propagation experiment (not product behaviour): a shared parent mount and rslave
//      binds; which consumer layouts pick up the new mount after an agent restart.
//
// Needs root, /dev/fuse and a Docker engine that can run here; when docker cannot run, every test
// skips with a loud "container tier not run: <reason>". Containers print sha256 digests, never values.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hush, hushOk, initManager, startManager, type InitializedManager, type RunningManager } from './helpers/manager.js';
import { catFile, cleanUpAgents, run, sleep, startAgent, waitUntil, type RunningAgent } from './helpers/agent.js';
import {
  DockerUnavailable, errnoOf, startDocker, startReader, timeline, uptime,
  type Docker, type ReaderContainer, type Sample,
} from './helpers/docker.js';

const HEARTBEAT = '500ms';
/** How long a consumer is watched after the restarted agent serves again. */
const OBSERVE_MS = 3000;

const ROOT = mkdtempSync('/tmp/hush-ctr-');
chmodSync(ROOT, 0o755);
/** Agent A: the documented layout, a plain directory as mount point. */
const A_MOUNT = join(ROOT, 'secrets');
/** Agent R (test 4): mounted under PARENT, a bind mount of itself made shared. */
const PARENT = join(ROOT, 'parent');
const R_MOUNT = join(PARENT, 'secrets');
/** Test 4's per-task anchors (a shared bind mount of itself); ANCHORS/<task>/secrets binds <mount>/<task>. */
const ANCHORS = join(ROOT, 'anchors');

let docker: Docker | undefined;
let skipReason: string | undefined;
let m: InitializedManager | undefined;
let mgr: RunningManager | undefined;
let A: RunningAgent | undefined;
let R: RunningAgent | undefined;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const value = () => Buffer.from(`hush-ctr-it-${randomBytes(24).toString('hex')}`);

/** Skips the test, loudly, when the container tier cannot run here. */
function skipped(t: TestContext): boolean {
  if (docker && m && mgr && A) return false;
  const reason = `container tier not run: ${skipReason ?? 'setup failed'}`;
  t.diagnostic(reason);
  console.error(`\n*** ${reason} ***\n`);
  t.skip(reason);
  return true;
}

async function createSecret(name: string, v: Buffer): Promise<void> {
  await hushOk(['secret', 'create', name, '-'], { env: m!.env, input: v });
}

async function waitHostFile(path: string, expectedSha: string, timeoutMs = 10_000): Promise<void> {
  await waitUntil(`${path} to be served on the host`, async () => {
    const r = await catFile(path);
    return r.code === 0 && sha(r.stdout) === expectedSha;
  }, timeoutMs);
}

/** Waits until the container has read the expected bytes (in a sample taken at or after `since`). */
async function waitReaderOk(c: ReaderContainer, expectedSha: string, since = 0, timeoutMs = 15_000): Promise<void> {
  await waitUntil(`container ${c.name} to read ${c.file}`, async () => (await c.samples()).some((s) => s.t >= since && s.ok && s.sha256 === expectedSha), timeoutMs);
}

const after_ = (ss: Sample[], t: number) => ss.filter((s) => s.t >= t);
const errnos = (ss: Sample[]) => [...new Set(ss.filter((s) => !s.ok).map((s) => s.errno!))].sort();

/** `mount --bind SRC DST` (a child process). */
async function bind(src: string, dst: string): Promise<void> {
  const r = await run('mount', ['--bind', src, dst]);
  assert.equal(r.code, 0, `mount --bind ${src} ${dst}: ${r.stderr}`);
}

/** Makes `dir` a bind mount of itself in its own shared peer group (so nothing propagates to /). */
async function sharedSelfBind(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await bind(dir, dir);
  for (const flag of ['--make-private', '--make-shared']) {
    const r = await run('mount', [flag, dir]);
    assert.equal(r.code, 0, `mount ${flag} ${dir}: ${r.stderr}`);
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything at or below `dir`, deepest first. */
async function unmountAllUnder(dir: string): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const left = mountsUnder(dir);
    if (left.length === 0) return;
    for (const p of left) await run('umount', ['-l', p], { timeoutMs: 10_000 });
  }
}

process.once('exit', () => {
  for (const p of mountsUnder(ROOT)) spawnSync('umount', ['-l', p], { timeout: 5000, stdio: 'ignore' });
  if (mountsUnder(ROOT).length === 0) rmSync(ROOT, { recursive: true, force: true });
});

before(async () => {
  try {
    docker = await startDocker((line) => console.error(`containers.test: ${line}`));
  } catch (e) {
    if (!(e instanceof DockerUnavailable)) throw e;
    skipReason = e.message;
    console.error(`\n*** container tier not run: ${skipReason} ***\n`);
    return;
  }
  m = await initManager();
  mgr = await startManager(m.stateDir, { env: { ...m.env, HUSH_HEARTBEAT_PERIOD: HEARTBEAT } });
  A = await startAgent({ managerPort: mgr.port!, token: m.workerToken, stateDir: join(ROOT, 'a-state'), mount: A_MOUNT, hostname: 'node-a' });
}, { timeout: 900_000 }); // a fresh machine installs docker.io first

after(async () => {
  await docker?.stop();
  await cleanUpAgents();
  await unmountAllUnder(ROOT);
  await mgr?.stop();
  m?.remove();
  const left = mountsUnder(ROOT);
  if (left.length === 0) rmSync(ROOT, { recursive: true, force: true });
  else console.error(`containers.test: left ${ROOT} in place: still mounted below it: ${left.join(', ')}`);
});

// ---- 1 ----

test('a running container with -v <mount>/<task>:/run/secrets:ro reads its secret; `hush service rm` makes the read fail inside it', { timeout: 60_000 }, async (t) => {
  if (skipped(t)) return;
  const v = value();
  await createSecret('c1-pw', v);
  await hushOk(['service', 'create', '--name', 'web', '--secret', 'source=c1-pw,target=pw', '--constraint', 'node.hostname==node-a'], { env: m!.env });
  try {
    await waitHostFile(join(A_MOUNT, 'web.1', 'pw'), sha(v));
    const c = await startReader(docker!, 'c1-web', ['-v', `${A_MOUNT}/web.1:/run/secrets:ro`], '/run/secrets/pw');
    await waitReaderOk(c, sha(v));
    assert.ok((await c.samples()).every((s) => s.ok && s.sha256 === sha(v)), 'every read before the removal gives the secret');

    // What the container has: one read-only FUSE mount, rooted at the task's directory.
    const mi = await docker!.cliOk(['exec', 'c1-web', 'cat', '/proc/self/mountinfo']);
    const fuse = mi.split('\n').filter((l) => / - fuse /.test(l));
    assert.equal(fuse.length, 1, `FUSE mounts in the container:\n${fuse.join('\n')}`);
    const f = fuse[0].split(' ');
    assert.deepEqual([f[3], f[4]], ['/web.1', '/run/secrets'], fuse[0]);
    assert.ok(f[5].split(',').includes('ro'), `mount options ${f[5]}`);
    const write = await docker!.cli(['exec', 'c1-web', 'sh', '-c', 'echo x > /run/secrets/pw']);
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);

    const tRm = uptime();
    await hushOk(['service', 'rm', 'web'], { env: m!.env });
    const tRmDone = uptime();
    await sleep(1500);
    const ss = await c.samples();
    // uptime() has a 10 ms resolution; a sample's time is taken just before its read.
    const lateOk = ss.filter((s) => s.ok && s.t > tRmDone + 0.02);
    assert.deepEqual(lateOk, [], 'a read that started after `service rm` returned still got the secret');
    const afterRm = after_(ss, tRmDone + 0.02);
    assert.ok(afterRm.length >= 5, `only ${afterRm.length} samples after the removal`);
    assert.deepEqual(errnos(afterRm), ['ENOENT'], `errors after the removal: ${timeline(afterRm, tRmDone)}`);
    assert.ok(await c.running(), 'the container keeps running');
    const ls = await docker!.cli(['exec', 'c1-web', 'ls', '/run/secrets']);
    assert.notEqual(ls.code, 0);
    const firstErr = ss.find((s) => !s.ok)!;
    t.diagnostic(`service rm took ${((tRmDone - tRm) * 1000).toFixed(0)} ms; the container's first failed read at ${firstErr.t >= tRmDone ? '+' : ''}${((firstErr.t - tRmDone) * 1000).toFixed(0)} ms after it returned`);
    t.diagnostic(`inside the running container after service rm: "${firstErr.error}" (${firstErr.errno}); \`ls /run/secrets\`: "${ls.stderr.trim()}" (${errnoOf(ls.stderr)})`);
    t.diagnostic(`timeline (t=0 when service rm returned): ${timeline(ss, tRmDone, sha(v))}`);
    assert.equal(errnoOf(ls.stderr), 'ENOENT', 'the bind-mounted task directory itself is gone');
  } finally {
    await hush(['service', 'rm', 'web'], { env: m!.env });
    await docker!.remove('c1-web');
  }
});

// ---- 2 ----

test('isolation: a container bind-mounting another task\'s directory sees only that task; modes hold in containers (--user 65534 denied, --user 1000 reads its 0400 file)', { timeout: 90_000 }, async (t) => {
  if (skipped(t)) return;
  const env = m!.env;
  const aPw = value();
  const aMine = value();
  const bPw = value();
  await createSecret('c2-a-pw', aPw);
  await createSecret('c2-a-mine', aMine);
  await createSecret('c2-b-pw', bPw);
  await hushOk(['service', 'create', '--name', 'isoa', '--secret', 'source=c2-a-pw,target=pw',
    '--secret', 'source=c2-a-mine,target=mine,uid=1000,gid=1000,mode=0400', '--constraint', 'node.hostname==node-a'], { env });
  await hushOk(['service', 'create', '--name', 'isob', '--secret', 'source=c2-b-pw,target=pw', '--constraint', 'node.hostname==node-a'], { env });
  try {
    await waitHostFile(join(A_MOUNT, 'isoa.1', 'mine'), sha(aMine));
    await waitHostFile(join(A_MOUNT, 'isob.1', 'pw'), sha(bPw));
    const aArgs = ['--network', 'none', '-v', `${A_MOUNT}/isoa.1:/run/secrets:ro`];
    const bArgs = ['--network', 'none', '-v', `${A_MOUNT}/isob.1:/run/secrets:ro`];

    // b's container (root in the container): its own file, nothing of a's.
    const bView = await docker!.runOnce(bArgs, [
      'echo "ls: $(ls -A /run/secrets | tr "\\n" " ")"',
      'echo "pw: $(sha256sum /run/secrets/pw 2>&1)"',
      'echo "up: $(sha256sum /run/secrets/../isoa.1/pw 2>&1)"',
      'echo "alias: $(sha256sum /run/secrets/../isoa/pw 2>&1)"',
      'echo "fuse: $(grep -c " - fuse " /proc/self/mountinfo) $(awk \'$0 ~ / - fuse / {print $4" "$5}\' /proc/self/mountinfo)"',
      // Every regular file the container can reach under /run (the secrets tree and its parent).
      'for f in $(find /run -type f 2>/dev/null); do echo "file: $f $(sha256sum "$f" | cut -d" " -f1)"; done',
    ].join('; '));
    assert.equal(bView.code, 0, bView.stderr);
    const out = bView.stdout.toString();
    t.diagnostic(`container of isob.1 (root): ${out.trim().split('\n').map((l) => l.replace(/[0-9a-f]{64}/g, (h) => h.slice(0, 12))).join(' | ')}`);
    assert.match(out, /^ls: pw $/m, 'the view holds only its own task\'s file');
    assert.ok(out.includes(`pw: ${sha(bPw)} `), 'b reads its own secret');
    assert.match(out, /^up: .*No such file or directory/m, '.. leaves the bind mount: a\'s directory is not there');
    assert.match(out, /^alias: .*No such file or directory/m);
    assert.match(out, /^fuse: 1 \/isob\.1 \/run\/secrets$/m, 'exactly one FUSE mount, rooted at isob.1');
    for (const other of [aPw, aMine]) assert.ok(!out.includes(sha(other)), 'a file of isoa is reachable from isob\'s container');
    const files = out.split('\n').filter((l) => l.startsWith('file: '));
    assert.deepEqual(files.map((l) => l.split(' ')[1]), ['/run/secrets/pw'], `files reachable under /run: ${files.join(', ')}`);

    // File modes, enforced by the kernel (default_permissions) for processes in containers too.
    const probe = 'for f in pw mine; do if out=$(sha256sum /run/secrets/$f 2>&1); then echo "$f ok ${out%% *}"; else echo "$f err $out"; fi; done';
    const results: Record<string, string> = {};
    for (const user of ['65534', '1000', '0']) {
      const r = await docker!.runOnce(['--user', user, ...aArgs], probe);
      assert.equal(r.code, 0, r.stderr);
      results[user] = r.stdout.toString().trim();
    }
    const line = (user: string, f: string) => results[user].split('\n').find((l) => l.startsWith(`${f} `)) ?? '';
    // nobody: neither file (pw is root:root 0400, mine is 1000:1000 0400).
    assert.match(line('65534', 'pw'), /^pw err .*Permission denied/, results['65534']);
    assert.match(line('65534', 'mine'), /^mine err .*Permission denied/, results['65534']);
    // uid 1000: its own 0400 file, not root's.
    assert.equal(line('1000', 'mine'), `mine ok ${sha(aMine)}`, results['1000']);
    assert.match(line('1000', 'pw'), /^pw err .*Permission denied/, results['1000']);
    // root in the container (CAP_DAC_OVERRIDE, no user namespace): every file of the task it mounts.
    assert.equal(line('0', 'pw'), `pw ok ${sha(aPw)}`, results['0']);
    assert.equal(line('0', 'mine'), `mine ok ${sha(aMine)}`, results['0']);
    const short = (s: string) => s.replace(/[0-9a-f]{64}/g, '<sha256>').replace(/sha256sum: can't open '[^']*': /g, '').split('\n').join('; ');
    t.diagnostic(`isoa.1 (pw root:root 0400, mine 1000:1000 0400): --user 65534: ${short(results['65534'])} | --user 1000: ${short(results['1000'])} | root: ${short(results['0'])}`);
  } finally {
    await hush(['service', 'rm', 'isoa'], { env });
    await hush(['service', 'rm', 'isob'], { env });
  }
});

// ---- 3 and 4: agent restarts ----

interface Consumer {
  label: string;
  c: ReaderContainer;
  /** Served again only once afterStart has run (per-task anchors: after the re-bind), not when the agent serves. */
  anchored?: boolean;
}

interface RestartOutcome {
  label: string;
  /** Samples from the stop to the end of the observation. */
  gap: Sample[];
  /** Samples taken once the old agent had exited. */
  dead: Sample[];
  /** Samples at least 0.5 s after the consumer could have recovered. */
  settled: Sample[];
  recovered: boolean;
  /** First good read after the new agent started, in s relative to when the host read the new mount (may be < 0). */
  recoveryS?: number;
  line: string;
}

/**
 * Restarts `agent` (SIGTERM + start, or kill -9 + start, same state dir), then watches the consumers
 * for OBSERVE_MS. `afterStop` / `afterStart` let test 4 simulate what the agent would do with per-task
 * anchors. Returns the new agent and each consumer's outcome.
 */
async function restartAndObserve(
  t: TestContext, agent: RunningAgent, hostname: string, how: 'SIGTERM' | 'kill -9', consumers: Consumer[], expectedSha: string, probeFile: string,
  hooks: { afterStop?: () => Promise<void>; afterStart?: () => Promise<void> } = {},
): Promise<{ agent: RunningAgent; outcomes: RestartOutcome[] }> {
  for (const k of consumers) await waitReaderOk(k.c, expectedSha);
  await sleep(300);
  const tStop = uptime();
  const exit = how === 'SIGTERM' ? await agent.stop() : await agent.kill9();
  const tExited = uptime();
  await hooks.afterStop?.();
  await sleep(500);
  const tStart = uptime();
  const next = await startAgent({ managerPort: mgr!.port!, stateDir: agent.stateDir, mount: agent.mount, hostname });
  await waitHostFile(probeFile, expectedSha);
  const tServed = uptime();
  await hooks.afterStart?.();
  const tHooked = uptime();
  await sleep(OBSERVE_MS);
  const tEnd = uptime();
  t.diagnostic(`${how}: agent exited (${exit.signal ?? exit.code}) ${((tExited - tStop) * 1000).toFixed(0)} ms after the signal; ` +
    `restarted at +${(tStart - tStop).toFixed(2)} s; its mount served again at +${(tServed - tStop).toFixed(2)} s; watched until +${(tEnd - tStop).toFixed(2)} s`);
  const outcomes: RestartOutcome[] = [];
  for (const k of consumers) {
    const ss = (await k.c.samples()).filter((s) => s.t <= tEnd);
    const before = ss.filter((s) => s.t < tStop - 0.02);
    assert.ok(before.length > 0 && before.every((s) => s.ok && s.sha256 === expectedSha), `${k.label}: reads before the restart`);
    const ready = k.anchored ? tHooked : tServed;
    const gap = after_(ss, tStop - 0.02);
    const dead = after_(ss, tExited + 0.02).filter((s) => s.t < tServed - 0.02);
    const settled = after_(ss, ready + 0.5);
    const firstOk = ss.find((s) => s.t >= tStart && s.ok && s.sha256 === expectedSha);
    const recovered = settled.length > 0 && settled.every((s) => s.ok && s.sha256 === expectedSha);
    const at = (x: number) => `+${(x - tStop).toFixed(2)} s`;
    const line = `[${how}] ${k.label}: ${recovered ? `RECOVERED (first good read at ${at(firstOk!.t)}; the host read the new mount at ${at(tServed)})` : 'NEVER RECOVERED'}; ` +
      `errors during the restart: ${errnos(gap).join(', ') || 'none'}; timeline (t=0 at the ${how}): ${timeline(ss, tStop, expectedSha)}`;
    t.diagnostic(line);
    outcomes.push({ label: k.label, gap, dead, settled, recovered, recoveryS: firstOk ? firstOk.t - tServed : undefined, line });
  }
  return { agent: next, outcomes };
}

test('agent restart, MEASURED (known limitation): a running container with -v <mount>/<task>:/run/secrets:ro gets ENOTCONN for good after SIGTERM+start and after kill -9+start; new containers are fine', { timeout: 90_000 }, async (t) => {
  if (skipped(t)) return;
  const env = m!.env;
  const v = value();
  await createSecret('c3-pw', v);
  await hushOk(['service', 'create', '--name', 'rst', '--secret', 'source=c3-pw,target=pw', '--constraint', 'node.hostname==node-a'], { env });
  const probe = join(A_MOUNT, 'rst.1', 'pw');
  const plainArgs = ['-v', `${A_MOUNT}/rst.1:/run/secrets:ro`];
  try {
    await waitHostFile(probe, sha(v));
    for (const how of ['SIGTERM', 'kill -9'] as const) {
      const name = `c3-plain-${how === 'SIGTERM' ? 'term' : 'kill'}`;
      const c = await startReader(docker!, name, plainArgs, '/run/secrets/pw');
      const { agent, outcomes } = await restartAndObserve(t, A!, 'node-a', how, [{ label: '-v <mount>/<task>:/run/secrets:ro', c }], sha(v), probe);
      A = agent;
      const o = outcomes[0];
      // The measured behaviour (see the file header): no recovery, ENOTCONN for good.
      assert.ok(!o.recovered, `the running container recovered after the ${how} restart — the known limitation is gone: update this test and README.md. ${o.line}`);
      assert.ok(o.settled.length >= 10, `${o.settled.length} samples after the restart`);
      assert.deepEqual(errnos(o.settled), ['ENOTCONN'], o.line);
      assert.ok(o.dead.length > 0 && o.dead.every((s) => !s.ok), `a read while the agent was away succeeded: ${o.line}`);
      for (const e of errnos(o.gap)) assert.ok(['ENOTCONN', 'ECONNABORTED'].includes(e), `unexpected error during the restart: ${o.line}`);
      assert.ok(await c.running(), 'the container itself keeps running');
      // A container started after the restart reads the secret: only consumers that bound the old mount are broken.
      const fresh = await docker!.runOnce(['--network', 'none', ...plainArgs], 'sha256sum /run/secrets/pw');
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.ok(fresh.stdout.toString().startsWith(sha(v)), 'a new container reads the secret');
      // Same directory, same name: only `docker restart` (a new bind mount) brings the old container back.
      const tRestart = uptime();
      await docker!.cliOk(['restart', '--time', '0', name]);
      await waitReaderOk(c, sha(v), tRestart);
      t.diagnostic(`KNOWN LIMITATION [${how}]: a container that bind-mounted a task directory before an agent restart reads ENOTCONN ("Transport endpoint is not connected") for good; \`docker restart\` of the container (or a new container) fixes it`);
      await docker!.remove(name);
    }
  } finally {
    await hush(['service', 'rm', 'rst'], { env });
  }
});

test('mount propagation experiment (not product behaviour): with the agent mounted under a shared parent, which running consumers survive an agent restart', { timeout: 120_000 }, async (t) => {
  if (skipped(t)) return;
  const env = m!.env;
  await sharedSelfBind(PARENT);
  await sharedSelfBind(ANCHORS);
  R = await startAgent({ managerPort: mgr!.port!, token: m!.workerToken, stateDir: join(ROOT, 'r-state'), mount: R_MOUNT, hostname: 'node-r' });
  const v = value();
  await createSecret('c4-pw', v);
  await hushOk(['service', 'create', '--name', 'prop', '--secret', 'source=c4-pw,target=pw', '--constraint', 'node.hostname==node-r'], { env });
  const task = 'prop.1';
  const probe = join(R_MOUNT, task, 'pw');
  // What an agent with per-task anchors would do: ANCHORS/<task>/secrets bind-mounts <mount>/<task>;
  // on stop it detaches that bind, on start it detaches a stale one and binds the new mount.
  const anchor = join(ANCHORS, task, 'secrets');
  const unbindAnchor = async () => { await run('umount', ['-l', anchor]); };
  const rebindAnchor = async () => {
    for (let i = 0; i < 4 && mountsUnder(anchor).length > 0; i++) await unbindAnchor();
    await bind(join(R_MOUNT, task), anchor);
  };
  try {
    await waitHostFile(probe, sha(v));
    mkdirSync(anchor, { recursive: true });
    await bind(join(R_MOUNT, task), anchor);

    const layouts: Array<{ key: string; label: string; args: string[]; file: string; anchored?: boolean; survives: boolean }> = [
      { key: 'plain', label: '-v <mount>/<task>:/run/secrets:ro (today\'s recommendation)', args: ['-v', `${R_MOUNT}/${task}:/run/secrets:ro`], file: '/run/secrets/pw', survives: false },
      { key: 'task-rslave', label: '-v <mount>/<task>:/run/secrets:ro,rslave', args: ['-v', `${R_MOUNT}/${task}:/run/secrets:ro,rslave`], file: '/run/secrets/pw', survives: false },
      { key: 'mount-plain', label: '-v <mount>:/hush:ro (whole mount, no propagation)', args: ['-v', `${R_MOUNT}:/hush:ro`], file: `/hush/${task}/pw`, survives: false },
      { key: 'parent-rslave', label: '--mount type=bind,source=<parent>,target=/hush,readonly,bind-propagation=rslave', args: ['--mount', `type=bind,source=${PARENT},target=/hush,readonly,bind-propagation=rslave`], file: `/hush/secrets/${task}/pw`, survives: true },
      { key: 'parent-v-rslave', label: '-v <parent>:/hush:ro,rslave', args: ['-v', `${PARENT}:/hush:ro,rslave`], file: `/hush/secrets/${task}/pw`, survives: true },
      { key: 'anchor-rslave', label: '--mount type=bind,source=<anchors>/<task>,target=/run/hush,readonly,bind-propagation=rslave (per-task anchor, re-bound)', args: ['--mount', `type=bind,source=${ANCHORS}/${task},target=/run/hush,readonly,bind-propagation=rslave`], file: '/run/hush/secrets/pw', anchored: true, survives: true },
    ];
    const summary: string[] = [];
    for (const how of ['SIGTERM', 'kill -9'] as const) {
      const consumers: Consumer[] = [];
      for (const l of layouts) {
        const name = `c4-${l.key}-${how === 'SIGTERM' ? 'term' : 'kill'}`;
        consumers.push({ label: l.label, c: await startReader(docker!, name, l.args, l.file), anchored: l.anchored });
      }
      const { agent, outcomes } = await restartAndObserve(t, R, 'node-r', how, consumers, sha(v), probe, {
        // SIGTERM: the agent would detach its anchors as it stops; kill -9: they stay until the next start.
        afterStop: how === 'SIGTERM' ? unbindAnchor : undefined,
        afterStart: rebindAnchor,
      });
      R = agent;
      for (const [i, l] of layouts.entries()) {
        const o = outcomes[i];
        summary.push(o.line);
        if (l.survives) {
          assert.ok(o.recovered, `expected ${l.label} to recover after ${how}: ${o.line}`);
          assert.ok(o.recoveryS !== undefined && o.recoveryS < 1.5, `slow recovery: ${o.line}`);
        } else {
          assert.ok(!o.recovered, `expected ${l.label} not to recover after ${how} (as measured when this test was written): ${o.line}`);
          assert.deepEqual(errnos(o.settled), ['ENOTCONN'], o.line);
        }
        // Consumers that follow the propagation see the empty directory under the mount while the agent
        // is away (ENOENT), or the dead connection until it is detached (ENOTCONN): errors, never stale bytes.
        assert.ok(o.gap.every((s) => !s.ok || s.sha256 === sha(v)), o.line);
      }
      await docker!.remove(...consumers.map((k) => k.c.name));
    }
    t.diagnostic('SUMMARY (a restart = stop, 0.5 s, start, wait for the first COMPLETE):');
    for (const l of summary) t.diagnostic(`  ${l.replace(/; timeline.*$/, '')}`);
  } finally {
    await hush(['service', 'rm', 'prop'], { env });
    await unbindAnchor();
    await R?.stop();
  }
});
