// hush secrets inside real Docker containers: a private dockerd (Debian's docker.io, see
// helpers/docker.ts), a real `hush manager run`, a real `hush agent run` with a real FUSE mount under
// /tmp/hush-ctr-XXXX and its per-task propagation anchors (--anchors, fs/anchors.ts) next to it, and
// busybox containers that bind-mount a task's directory of the mount, or its anchor.
//
//   1. a running container reads its secret; `hush service rm` makes its reads fail (ENOENT);
//   2. isolation: a container sees only the task directory it bind-mounts; file modes hold inside
//      containers (--user 65534 denied, --user 1000 reads its own 0400 file);
//   3. agent restart (SIGTERM + start, and kill -9 + start):
//      - the recommended `--mount type=bind,source=<anchors>/<task>,target=/run/hush,readonly,
//        bind-propagation=rslave` (and target=/run): the running container RECOVERS (ENOENT while the
//        agent is away, ENOTCONN too after a kill -9 until the new agent starts, never stale bytes);
//        a container started while the agent is down gets its files once the agent serves;
//      - `-v <mount>/<task>:/run/secrets:ro` (bound straight to the FUSE mount): MEASURED, the running
//        container never recovers (ENOTCONN for good) — asserted as measured and printed.
//
// The mount-propagation experiment that designed the anchors (a test that simulated them with
// `mount --bind`, removed once the agent made them) measured, for both restart kinds: recovered —
// a per-task anchor bound rslave, and a shared parent of the mount point bound rslave (`-v <parent>:
// /hush:ro,rslave` too); never recovered (ENOTCONN) — `-v <mount>/<task>` with or without rslave,
// and `-v <mount>:/hush:ro` (the whole mount, no propagation).
//
// Needs root, /dev/fuse and a Docker engine that can run here; when docker cannot run, every test
// skips with a loud "container tier not run: <reason>". Containers print sha256 digests, never values.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { hush, hushOk, initManager, startManager, type InitializedManager, type RunningManager } from './helpers/manager.js';
import { cleanUpAgents, startAgent, type RunningAgent } from './helpers/agent-process.js';
import { mountPointsUnderSync } from './helpers/mounts.js';
import { catFile, run, sleep } from './helpers/proc.js';
import { waitUntil } from '../common/testing/wait.js';
import {
  DockerUnavailable, errnoOf, startDocker, startReader, timeline, uptime,
  type Docker, type ReaderContainer, type Sample,
} from './helpers/docker.js';

const HEARTBEAT = '500ms';
/** How long a consumer is watched after the restarted agent serves again. */
const OBSERVE_MS = 3000;

const ROOT = mkdtempSync('/tmp/hush-ctr-');
chmodSync(ROOT, 0o755);
/** Agent A: a plain directory as mount point. */
const A_MOUNT = join(ROOT, 'secrets');
/** Agent A's anchor directory (the product default is /run/hush): ANCHORS/<task>/secrets binds A_MOUNT/<task>. */
const ANCHORS = join(ROOT, 'hush');

let docker: Docker | undefined;
let skipReason: string | undefined;
let m: InitializedManager | undefined;
let mgr: RunningManager | undefined;
let A: RunningAgent | undefined;

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

/** Lazily unmounts everything at or below `dir`, deepest first. */
async function unmountAllUnder(dir: string): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const left = mountPointsUnderSync(dir);
    if (left.length === 0) return;
    for (const p of left) await run('umount', ['-l', p], { timeoutMs: 10_000 });
  }
}

process.once('exit', () => {
  for (const p of mountPointsUnderSync(ROOT)) spawnSync('umount', ['-l', p], { timeout: 5000, stdio: 'ignore' });
  if (mountPointsUnderSync(ROOT).length === 0) rmSync(ROOT, { recursive: true, force: true });
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
  A = await startAgent({ managerPort: mgr.port!, token: m.workerToken, stateDir: join(ROOT, 'a-state'), mount: A_MOUNT, anchors: ANCHORS, hostname: 'node-a' });
}, { timeout: 900_000 }); // a fresh machine installs docker.io first

after(async () => {
  await docker?.stop();
  await cleanUpAgents();
  await unmountAllUnder(ROOT);
  await mgr?.stop();
  m?.remove();
  const left = mountPointsUnderSync(ROOT);
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

// ---- 3: agent restarts ----

interface Consumer {
  label: string;
  c: ReaderContainer;
  /** Bound to the task's anchor: served again once the new agent has bound it, not when its mount serves. */
  anchored?: boolean;
}

interface RestartOutcome {
  label: string;
  /** Samples from the stop to the end of the observation. */
  gap: Sample[];
  /** Samples taken once the old agent had exited and before the new one served. */
  dead: Sample[];
  /** Samples at least 0.5 s after the consumer could have recovered. */
  settled: Sample[];
  recovered: boolean;
  /** First good read after the new agent started, in s relative to when it could (may be < 0). */
  recoveryS?: number;
  /** From the first failed read to the first good one after it, in s. */
  outageS?: number;
  line: string;
}

/**
 * Restarts `agent` (SIGTERM + start, or kill -9 + start, same state dir and anchors), then watches the
 * consumers for OBSERVE_MS. `anchorProbe` is the task's file through its anchor on the host: the time it
 * reads again is when anchored consumers can. `afterStop` runs while no agent is running.
 */
async function restartAndObserve(
  t: TestContext, agent: RunningAgent, hostname: string, how: 'SIGTERM' | 'kill -9', consumers: Consumer[], expectedSha: string,
  probes: { file: string; anchor: string }, afterStop?: () => Promise<void>,
): Promise<{ agent: RunningAgent; outcomes: RestartOutcome[] }> {
  for (const k of consumers) await waitReaderOk(k.c, expectedSha);
  await sleep(300);
  const tStop = uptime();
  const exit = how === 'SIGTERM' ? await agent.stop() : await agent.kill9();
  const tExited = uptime();
  await afterStop?.();
  await sleep(500);
  const tStart = uptime();
  const next = await startAgent({ managerPort: mgr!.port!, stateDir: agent.stateDir, mount: agent.mount, anchors: ANCHORS, hostname });
  await waitHostFile(probes.file, expectedSha);
  const tServed = uptime();
  await waitHostFile(probes.anchor, expectedSha);
  const tAnchored = uptime();
  await sleep(OBSERVE_MS);
  const tEnd = uptime();
  t.diagnostic(`${how}: agent exited (${exit.signal ?? exit.code}) ${((tExited - tStop) * 1000).toFixed(0)} ms after the signal; ` +
    `restarted at +${(tStart - tStop).toFixed(2)} s; its mount served again at +${(tServed - tStop).toFixed(2)} s, the anchor at +${(tAnchored - tStop).toFixed(2)} s; watched until +${(tEnd - tStop).toFixed(2)} s`);
  const outcomes: RestartOutcome[] = [];
  for (const k of consumers) {
    const ss = (await k.c.samples()).filter((s) => s.t <= tEnd);
    const before = ss.filter((s) => s.t < tStop - 0.02);
    assert.ok(before.length > 0 && before.every((s) => s.ok && s.sha256 === expectedSha), `${k.label}: reads before the restart`);
    const ready = k.anchored ? tAnchored : tServed;
    const gap = after_(ss, tStop - 0.02);
    const dead = after_(ss, tExited + 0.02).filter((s) => s.t < tStart);
    const settled = after_(ss, ready + 0.5);
    const firstErr = gap.find((s) => !s.ok);
    const firstOk = ss.find((s) => s.t >= tStart && s.ok && s.sha256 === expectedSha);
    const recovered = settled.length > 0 && settled.every((s) => s.ok && s.sha256 === expectedSha);
    const at = (x: number) => `+${(x - tStop).toFixed(2)} s`;
    const outageS = firstErr && firstOk ? firstOk.t - firstErr.t : undefined;
    const line = `[${how}] ${k.label}: ${recovered ? `RECOVERED (first good read at ${at(firstOk!.t)}; reads failed for ${outageS?.toFixed(2)} s; the host read the anchor at ${at(tAnchored)})` : 'NEVER RECOVERED'}; ` +
      `errors during the restart: ${errnos(gap).join(', ') || 'none'}; timeline (t=0 at the ${how}): ${timeline(ss, tStop, expectedSha)}`;
    t.diagnostic(line);
    outcomes.push({ label: k.label, gap, dead, settled, recovered, recoveryS: firstOk ? firstOk.t - ready : undefined, outageS, line });
  }
  return { agent: next, outcomes };
}

test('agent restart (SIGTERM+start, kill -9+start): a running container bound to the task\'s anchor (rslave) recovers; one bound with -v <mount>/<task> gets ENOTCONN for good (MEASURED)', { timeout: 150_000 }, async (t) => {
  if (skipped(t)) return;
  const env = m!.env;
  const v = value();
  await createSecret('c3-pw', v);
  await hushOk(['service', 'create', '--name', 'rst', '--secret', 'source=c3-pw,target=pw', '--constraint', 'node.hostname==node-a'], { env });
  const task = 'rst.1';
  const probes = { file: join(A_MOUNT, task, 'pw'), anchor: join(ANCHORS, task, 'secrets', 'pw') };
  const plainArgs = ['-v', `${A_MOUNT}/${task}:/run/secrets:ro`];
  // README.md, "Containers": the recommended forms.
  const anchorArgs = ['--mount', `type=bind,source=${ANCHORS}/${task},target=/run/hush,readonly,bind-propagation=rslave`];
  const anchorRunArgs = ['--mount', `type=bind,source=${ANCHORS}/${task},target=/run,readonly,bind-propagation=rslave`];
  const names: string[] = [];
  try {
    await waitHostFile(probes.file, sha(v));
    await waitHostFile(probes.anchor, sha(v));
    const st = await A!.status();
    assert.equal(st.anchors, ANCHORS);
    assert.deepEqual(st.tasks.map((x) => [x.name, x.anchor]), [[task, join(ANCHORS, task)]]);

    // What an anchored container has: the anchor directory, with the task's read-only FUSE bind in it.
    const probe = await docker!.runOnce(['--network', 'none', ...anchorArgs], [
      'awk \'$5 ~ /^\\/run\\/hush/ {print $4" "$5" "$6" "$(NF-2)}\' /proc/self/mountinfo',
      'echo "write: $(echo x 2>&1 > /run/hush/secrets/pw)"',
      'echo "ls: $(ls -A /run/hush | tr "\\n" " ")"',
    ].join('; '));
    assert.equal(probe.code, 0, probe.stderr);
    const out = probe.stdout.toString();
    t.diagnostic(`anchored container's mounts: ${out.trim().split('\n').join(' | ')}`);
    assert.match(out, new RegExp(`^/${task.replace('.', '\\.')} /run/hush/secrets ro,\\S* fuse$`, 'm'), 'the task directory, bound read-only under the anchor');
    assert.match(out, /^write: .*Read-only file system/m);
    assert.match(out, /^ls: secrets $/m, 'only the secrets directory under the anchor');

    for (const how of ['SIGTERM', 'kill -9'] as const) {
      const k = how === 'SIGTERM' ? 'term' : 'kill';
      const consumers: Consumer[] = [
        { label: 'anchor: --mount type=bind,source=<anchors>/<task>,target=/run/hush,readonly,bind-propagation=rslave', c: await startReader(docker!, `c3-anchor-${k}`, anchorArgs, '/run/hush/secrets/pw'), anchored: true },
        { label: 'anchor: --mount ...,target=/run,... (reads /run/secrets/pw)', c: await startReader(docker!, `c3-anchor-run-${k}`, anchorRunArgs, '/run/secrets/pw'), anchored: true },
        { label: 'plain: -v <mount>/<task>:/run/secrets:ro', c: await startReader(docker!, `c3-plain-${k}`, plainArgs, '/run/secrets/pw') },
      ];
      names.push(...consumers.map((x) => x.c.name));
      // A container started while no agent runs binds the (kept, empty) anchor directory.
      let late: ReaderContainer | undefined;
      const { agent, outcomes } = await restartAndObserve(t, A!, 'node-a', how, consumers, sha(v), probes, async () => {
        if (how !== 'SIGTERM') return;
        late = await startReader(docker!, `c3-late-${k}`, anchorArgs, '/run/hush/secrets/pw');
        names.push(late.name);
      });
      A = agent;
      const [anchor, anchorRun, plain] = outcomes;

      // The anchored consumers: recovered, soon after the anchor was bound again; errors only while the
      // agent was away (ENOENT: the empty anchor; after a kill -9 also ENOTCONN: the dead bind, until
      // the new agent detaches it at start), never a stale or foreign value.
      for (const o of [anchor, anchorRun]) {
        assert.ok(o.recovered, `expected ${o.label} to recover after ${how}: ${o.line}`);
        assert.ok(o.recoveryS !== undefined && o.recoveryS < 1.5, `slow recovery: ${o.line}`);
        assert.ok(o.gap.every((s) => !s.ok || s.sha256 === sha(v)), o.line);
        assert.ok(o.dead.length > 0 && o.dead.every((s) => !s.ok), `a read while no agent ran succeeded: ${o.line}`);
        const allowed = how === 'SIGTERM' ? ['ENOENT', 'EACCES'] : ['ENOENT', 'ENOTCONN', 'ECONNABORTED'];
        for (const e of errnos(o.gap)) assert.ok(allowed.includes(e), `unexpected error ${e} during the ${how} restart: ${o.line}`);
        if (how === 'SIGTERM') assert.ok(errnos(o.dead).includes('ENOENT'), o.line);
        assert.ok(await consumers.find((x) => x.label === o.label)!.c.running(), 'the container keeps running');
      }
      if (late) {
        await waitReaderOk(late, sha(v));
        t.diagnostic(`[${how}] a container started with the anchor while no agent ran: ${timeline(await late.samples(), (await late.samples())[0].t, sha(v))}`);
      }

      // The plain consumer: the measured limitation (README.md), no recovery, ENOTCONN for good.
      assert.ok(!plain.recovered, `the plain -v container recovered after the ${how} restart — the known limitation is gone: update this test and README.md. ${plain.line}`);
      assert.ok(plain.settled.length >= 10, `${plain.settled.length} samples after the restart`);
      assert.deepEqual(errnos(plain.settled), ['ENOTCONN'], plain.line);
      assert.ok(plain.dead.length > 0 && plain.dead.every((s) => !s.ok), `a read while the agent was away succeeded: ${plain.line}`);
      // A SIGTERM'd agent empties its view before it detaches the mount (agent.ts stop()): a read in
      // between sees ENOENT (seen once in ~5 full runs, at +0.01 s), then the dead mount's ENOTCONN.
      const plainAllowed = how === 'SIGTERM' ? ['ENOENT', 'ENOTCONN', 'ECONNABORTED'] : ['ENOTCONN', 'ECONNABORTED'];
      for (const e of errnos(plain.gap)) assert.ok(plainAllowed.includes(e), `unexpected error ${e} during the restart: ${plain.line}`);
      // A container started after the restart reads the secret; `docker restart` (a new bind) fixes the old one.
      const fresh = await docker!.runOnce(['--network', 'none', ...plainArgs], 'sha256sum /run/secrets/pw');
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.ok(fresh.stdout.toString().startsWith(sha(v)), 'a new container reads the secret');
      const tRestart = uptime();
      await docker!.cliOk(['restart', '--time', '0', `c3-plain-${k}`]);
      await waitReaderOk(consumers[2].c, sha(v), tRestart);
      t.diagnostic(`KNOWN LIMITATION [${how}]: a container that bound <mount>/<task> before an agent restart reads ENOTCONN for good; \`docker restart\` fixes it. Bound to the anchor instead: reads failed for ${anchor.outageS?.toFixed(2)} s, then recovered by itself`);
      await docker!.remove(...names.splice(0));
    }

    // Revocation through the anchor: service rm detaches it; the running container reads ENOENT.
    const c = await startReader(docker!, 'c3-anchor-rm', anchorArgs, '/run/hush/secrets/pw');
    names.push(c.name);
    await waitReaderOk(c, sha(v));
    await hushOk(['service', 'rm', 'rst'], { env });
    const tRm = uptime();
    await sleep(1500);
    const afterRm = after_(await c.samples(), tRm + 0.5);
    assert.ok(afterRm.length >= 5 && afterRm.every((s) => !s.ok && s.errno === 'ENOENT'), `after service rm: ${timeline(await c.samples(), tRm, sha(v))}`);
  } finally {
    await hush(['service', 'rm', 'rst'], { env });
    await docker!.remove(...names);
  }
});
