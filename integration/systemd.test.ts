// hush's systemd units (systemd/) under a REAL systemd: a minimal Debian bookworm tree booted with
// systemd-nspawn (helpers/systemd-nspawn.ts). Inside, a oneshot unit (helpers/systemd-scenario.ts)
// installs the units with `hush install systemd`, runs the manager as hush-manager.service, creates a
// secret and a service `legacy` that references it, then starts only `legacy-app.service`
// (Requires= + After=hush-agent.service): systemd starts the agent, waits for its READY=1 (sent
// natively over $NOTIFY_SOCKET once the first COMPLETE is served), and only then the legacy app, which
// must read its password from /run/secrets/legacy/password at its first attempt. `hush service rm
// legacy` must then make the file vanish for the running app. Along the way: the agent's capabilities,
// its mount namespace (the host's: its mount must reach other units), the per-task anchors in /run/hush
// (a consumer bound to one with rslave, as Docker does, reads again after a SIGKILL + Restart= and after
// a `systemctl restart`), readiness held back while no manager answers, a clean stop, and the manager's
// sandbox.
//
// If this machine cannot run the tier (not root, no /dev/fuse, no mirror for debootstrap, nspawn
// cannot boot), the test is SKIPPED with the reason, printed loudly: the suite's summary counts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hush, REPO_ROOT } from './helpers/manager.js';
import { sdNotify } from '../agent/notify.js';
import { boot, ensureTools, ensureTree, GUEST_NODE, GUEST_REPO, guestBinds, hostUnsuitable, parseResults, probeBoot } from './helpers/systemd-nspawn.js';
import { LEGACY_SCRIPT, LEGACY_UNIT, SCENARIO_UNIT, scenarioScript } from './helpers/systemd-scenario.js';

const CAP_SYS_ADMIN = 1n << 21n;
const SCENARIO_TIMEOUT_SEC = 200;

function loudSkip(t: { skip: (msg: string) => void; diagnostic: (msg: string) => void }, reason: string): void {
  const msg = `nspawn tier not run: ${reason}`;
  process.stderr.write(`\n${'!'.repeat(100)}\n!! systemd.test: ${msg}\n${'!'.repeat(100)}\n\n`);
  t.diagnostic(msg);
  t.skip(msg);
}

test('systemd units under a real systemd (nspawn): readiness, a legacy unit reads its secret, service rm revokes it', { timeout: 600_000 }, async (t) => {
  const unsuitable = hostUnsuitable();
  if (unsuitable) return loudSkip(t, unsuitable);
  if (!existsSync(join(REPO_ROOT, 'common', 'native', 'build', 'Release', 'hush_sys.node'))) {
    assert.fail('the native addon is not built (npm ci): the agent cannot run');
  }
  const started = Date.now();
  const log = (s: string) => t.diagnostic(s);

  const toolsProblem = await ensureTools(log);
  if (toolsProblem) return loudSkip(t, toolsProblem);
  const tree = await ensureTree(log);
  if ('skip' in tree) return loudSkip(t, tree.skip);
  log(tree.built ? `built the Debian tree ${tree.tree} in ${(tree.ms / 1000).toFixed(1)} s (cached for later runs)` : `cached Debian tree ${tree.tree}`);

  const runDir = mkdtempSync(join(tmpdir(), 'hush-systemd-'));
  try {
    const extra = await guestBinds(tree.tree, REPO_ROOT);
    const probe = await probeBoot(tree.tree, runDir, extra);
    if (probe) return loudSkip(t, probe);

    const password = `legacy-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(runDir, 'scenario.sh'), scenarioScript({ repo: GUEST_REPO, node: GUEST_NODE, password, probePropagation: true }), { mode: 0o700 });
    writeFileSync(join(runDir, 'hush-scenario.service'), SCENARIO_UNIT);
    writeFileSync(join(runDir, 'legacy-app.service'), LEGACY_UNIT);
    writeFileSync(join(runDir, 'legacy-app.sh'), LEGACY_SCRIPT, { mode: 0o755 });
    writeFileSync(join(runDir, 'results.txt'), '');

    const r = await boot({
      tree: tree.tree, runDir, unitFile: join(runDir, 'hush-scenario.service'), unitName: 'hush-scenario.service', extra, timeoutSec: SCENARIO_TIMEOUT_SEC,
    });
    const read = (f: string) => (existsSync(join(runDir, f)) ? readFileSync(join(runDir, f), 'utf8') : '');
    const res = parseResults(read('results.txt'));
    const report = () => [
      `nspawn exit ${r.code ?? r.signal} after ${(r.ms / 1000).toFixed(1)} s`,
      '---- results.txt', read('results.txt'),
      '---- scenario.log', read('scenario.log'),
      '---- legacy.log', read('legacy.log'),
      '---- journal.txt', read('journal.txt'),
      '---- console (tail)', r.out.split('\n').slice(-40).join('\n'),
    ].join('\n');
    const steps = [...read('scenario.log').matchAll(/== (\d{9,}\.\d+) (.*)$/gm)];
    for (const m of steps) log(`scenario +${(Number(m[1]) - Number(steps[0][1])).toFixed(1)} s: ${m[2]}`);
    for (const [k, v] of Object.entries(res)) log(`${k}=${v}`);
    if (r.leftovers > 0) log(`the container outlived nspawn (${r.leftovers} process(es) carrying its marker): killed`);
    if (res.SCENARIO !== 'PASS') assert.fail(`the scenario inside the container did not pass: ${res.SCENARIO ?? '(no verdict: it never finished)'}\n${report()}`);

    const check = (what: string, ok: boolean) => assert.ok(ok, `${what}\n${report()}`);
    const expectedSha = createHash('sha256').update(password).digest('hex');

    // The units install and verify; the env file holding the token is 0600; the wrapper is on PATH.
    check('systemd-analyze verify of both units', res.VERIFY === 'ok');
    check('agent.env is 0600', res.AGENT_ENV_MODE === '600' && res.AGENT_ENV_MODE2 === '600');
    check('the hush wrapper', res.WRAPPER === '/usr/local/bin/hush');
    check(`systemd logged no configuration warning for hush's units (${res.UNIT_CONFIG_WARNINGS})`, res.UNIT_CONFIG_WARNINGS === '0');

    // The manager runs as a hardened unit: no capability, NoNewPrivs, read-only /, writable state dir, private /tmp.
    check('manager active', res.MANAGER === 'active');
    check('manager: no effective capability', BigInt(`0x${res.MANAGER_CAPEFF}`) === 0n && BigInt(`0x${res.MANAGER_CAPBND}`) === 0n);
    check('manager: NoNewPrivs and a seccomp filter', res.MANAGER_NNP === '1' && res.MANAGER_SECCOMP === '2');
    check('manager: ProtectSystem=strict (/ read-only, state dir writable)', res.MANAGER_ROOTFS_RO === '1' && res.MANAGER_STATE_RW === '1');
    check('manager: PrivateTmp', res.MANAGER_OWN_MNT_NS === '1' && res.MANAGER_PRIVATE_TMP === '1');

    // The agent: Type=notify, ready, CAP_SYS_ADMIN only, NoNewPrivs, no core, no own mount namespace,
    // the token not on its command line, its mount visible in the host namespace.
    check('agent Type=notify NotifyAccess=main', res.AGENT_TYPE === 'notify' && res.AGENT_NOTIFY_ACCESS === 'main');
    check('agent active/running', res.AGENT === 'active/running');
    check('agent: capabilities = CAP_SYS_ADMIN only', BigInt(`0x${res.AGENT_CAPBND}`) === CAP_SYS_ADMIN && BigInt(`0x${res.AGENT_CAPEFF}`) === CAP_SYS_ADMIN);
    check('agent: NoNewPrivs and a seccomp filter', res.AGENT_NNP === '1' && res.AGENT_SECCOMP === '2');
    check('agent: LimitCORE=0', res.AGENT_CORE_LIMIT === '0/0');
    // Configured, not necessarily effective here: a container's systemd cannot raise a limit above the hard
    // limit it was started with (no CAP_SYS_RESOURCE); a host's PID 1 can.
    check(`agent: LimitMEMLOCK=infinity (no CAP_IPC_LOCK: mlock is bounded by it; effective here ${res.AGENT_MEMLOCK_LIMIT})`, ['infinity', '18446744073709551615'].includes(res.AGENT_MEMLOCK_CONF ?? ''));
    // mlock is outside @system-service: the unit's seccomp filter must allow it, or every lock fails (EPERM).
    check('agent: the seccomp filter allows mlock', res.AGENT_FILTER_ALLOWS_MLOCK === '1');
    // Whether it then succeeds depends on the container: nspawn allows @memlock only to a container that
    // keeps CAP_IPC_LOCK, which this machine's root does not have (integration/memory-lock.test.ts checks
    // the locking itself, on the host). What the agent reports must be one of the two, never absent.
    check(`agent status reports the memory lock (${res.AGENT_MEMORY_LOCK})`, /^"memoryLock":\{"state":"(locked|failing)","failures":\d+\}$/.test(res.AGENT_MEMORY_LOCK ?? ''));
    t.diagnostic(`memory lock under nspawn: ${res.AGENT_MEMORY_LOCK}; mlock from the container's root shell: ${res.CONTAINER_MLOCK}`);
    check('agent: MemorySwapMax=0 configured', res.AGENT_SWAP_MAX === '0');
    check('agent: in the host mount namespace (its mount must reach other units)', res.AGENT_SAME_MNT_NS === '1');
    check('agent: the join token is not on its command line', res.AGENT_TOKEN_IN_CMDLINE === '0');
    check('the FUSE mount at /run/secrets is visible to PID 1', Number(res.HOST_SEES_FUSE) >= 1);

    // Per-task anchors (default /run/hush): the unit creates the directory, makes it its own shared peer
    // group, and binds legacy.1 read-only in it, visible to PID 1; 0755 despite UMask=0077.
    check(`/run/hush is a shared mount point (${res.ANCHOR_DIR_PROPAGATION})`, /^shared:\d+$/.test(res.ANCHOR_DIR_PROPAGATION ?? ''));
    check(`/run/hush/legacy.1/secrets binds the task directory read-only (${res.ANCHOR_BIND})`, /^\/legacy\.1 ro,\S* fuse$/.test(res.ANCHOR_BIND ?? ''));
    check('the anchor serves the file', res.ANCHOR_SHA === expectedSha);
    check(`anchor directories are 0755 (${res.ANCHOR_MODES})`, (res.ANCHOR_MODES ?? '').trim() === '755 755');

    // B, the node's agent restarted while the node is still ready: `systemctl start legacy-app` alone
    // started the agent, waited for READY=1 (sent with the node's task in it), then started the app,
    // which read the right value at its first and only attempt.
    const tasksAtReady = (phase: string) => Number(/^serving (\d+) task\(s\) at \/run\/secrets, anchored in \/run\/hush$/.exec(res[`${phase}_READY_STATUS`] ?? '')?.[1] ?? NaN);
    const readAtFirstAttempt = (phase: string) => (res[`${phase}_LEGACY_LOG1`] ?? '').startsWith('LEGACY STARTED') && res[`${phase}_LEGACY_LOG1`].includes(`sha256=${expectedSha}`);
    check(`B: agent STATUS= at READY names the node's task (${res.B_READY_STATUS})`, tasksAtReady('B') === 1);
    check('B: legacy started after the agent became active', Number(res.B_LEGACY_STARTED_AT) >= Number(res.B_AGENT_READY_AT) && Number(res.B_AGENT_READY_AT) > 0);
    check(`B: legacy app read its password at its first attempt (${res.B_LEGACY_LOG1})`, res.B_START_RC === '0' && readAtFirstAttempt('B'));
    check('B: legacy app active', res.LEGACY === 'active');

    // Revocation: `hush service rm legacy` made the file vanish for the running app.
    check('the file vanished for the legacy app', (res.LEGACY_VANISHED ?? '').startsWith('LEGACY VANISHED'));
    const vanishMs = (Number(res.LEGACY_VANISHED.split(' ')[2]) - Number(res.RM_AT)) * 1000;
    log(`file vanished ${vanishMs.toFixed(0)} ms after \`hush service rm\` started (CLI start-up included; the app polls every 100 ms)`);

    // A (first join) and C (back after being marked down): the dispatcher sends the first COMPLETE
    // (READY=1) only once the node is ready again and the orchestrator has placed its tasks, so a
    // unit ordered After= the agent finds its file at once.
    for (const [phase, what] of [['A', 'a node joining for the first time'], ['C', 'a node back after it was marked down (e.g. a reboot)']] as const) {
      log(`${phase}: ${what}: ${tasksAtReady(phase)} task(s) at READY=1; legacy-app start exit ${res[`${phase}_START_RC`]}, first attempt: ${res[`${phase}_LEGACY_LOG1`]}; file there within 10 s: ${res[`${phase}_FILE_LATER`] === '0'}`);
      await t.test(`${phase}: ${what}: the first COMPLETE (READY=1) already holds the node's task`, () => {
        assert.equal(tasksAtReady(phase), 1, `tasks at READY: ${res[`${phase}_READY_STATUS`]}`);
        assert.ok(readAtFirstAttempt(phase), `legacy app, first attempt: ${res[`${phase}_LEGACY_LOG1`]}`);
      });
      check(`${phase}: the task reached the node anyway`, res[`${phase}_FILE_LATER`] === '0');
    }

    // D: a crashed agent (SIGKILL) leaves no dead mount behind (libfuse2's auto_unmount helper detaches
    // it), and Restart=on-failure brings the agent and the file back.
    check('D: the dead mount was detached after the crash', res.D_DETACHED_AFTER_CRASH === '0');
    check(`D: restarted by systemd (NRestarts=${res.D_NRESTARTS})`, res.D_RESTARTED === '0');
    check('D: the file is back after the restart', res.D_FILE_BACK === '0');
    // A consumer bound to the anchor with rslave (as Docker does for bind-propagation=rslave) reads
    // again after the crash + Restart=, and after a `systemctl restart`, without being touched.
    check('D: the consumer read the file before the crash', res.D_CONSUMER_BEFORE === expectedSha);
    check(`D: the consumer reads again after the crash and restart (${res.D_CONSUMER_AFTER_CRASH})`, res.D_CONSUMER_BACK === '0' && res.D_CONSUMER_AFTER_CRASH === expectedSha);
    check(`D: the consumer reads again after systemctl restart (${res.D_CONSUMER_AFTER_RESTART})`, res.D_CONSUMER_BACK_RESTART === '0' && res.D_CONSUMER_AFTER_RESTART === expectedSha);
    check(`D: one anchor bind after the restarts (${res.D_ANCHOR_BINDS})`, res.D_ANCHOR_BINDS === '1');

    // MemorySwapMax=0 is enforced only where the memory controller is on cgroup v2.
    if (res.AGENT_SWAP_MAX_CGROUP !== undefined) check(`memory.swap.max of the agent's cgroup (${res.AGENT_SWAP_MAX_CGROUP})`, res.AGENT_SWAP_MAX_CGROUP === '0');
    else log(`MemorySwapMax=0 configured but not enforceable here: no memory.swap.max (the memory controller is on cgroup v1 on this machine; swap devices: ${res.SWAP_ON_MACHINE})`);

    // Readiness is held back while no manager answers, and comes once one does.
    check(`agent restarted without a manager stays activating (${res.AGENT_WITHOUT_MANAGER})`, res.AGENT_WITHOUT_MANAGER === 'activating/start');
    check('agent active once the manager is back', res.AGENT_AFTER_MANAGER === 'active/running');

    // Stop: clean (no SIGKILL), mount gone, nothing left in the cgroup (the auto_unmount helper included).
    check(`agent stop result success (${res.AGENT_STOP_RESULT})`, res.AGENT_STOP_RESULT === 'success' && res.AGENT_AFTER_STOP === 'inactive');
    check('no FUSE mount at /run/secrets after stop', res.FUSE_AFTER_STOP === '0');
    check('no anchor bind left under /run/hush after stop', res.ANCHORS_AFTER_STOP === '0');
    check(`nothing left in the agent's cgroup (${res.AGENT_PROCS_AFTER_STOP})`, (res.AGENT_PROCS_AFTER_STOP ?? '').trim() === '');
    check('no SIGKILL at stop', res.AGENT_STOP_LOG === '0');

    // The finding behind the agent unit (systemd/systemd.md): with a private mount namespace
    // (ProtectSystem=strict + MountFlags=shared), the agent mounts for itself only.
    if (res.PROBE_AGENT_OWN_MNT_NS !== undefined) {
      log(`probe, agent with ProtectSystem=strict/PrivateTmp/MountFlags=shared: own mount ns=${res.PROBE_AGENT_OWN_MNT_NS}, agent sees its FUSE mount=${res.PROBE_AGENT_SEES_FUSE}, PID 1 sees it=${res.PROBE_HOST_SEES_FUSE}, PID 1 reads the file=${res.PROBE_HOST_READS}`);
      check('probe: the sandboxed agent mounted (in its own namespace)', res.PROBE_AGENT_OWN_MNT_NS === '1' && Number(res.PROBE_AGENT_SEES_FUSE) >= 1);
      check('probe: that mount does not reach the host namespace (why the agent unit has no mount namespace)', res.PROBE_HOST_SEES_FUSE === '0' && res.PROBE_HOST_READS === '0');
      log(`probe: the sandboxed agent's anchor bind: seen by the agent=${res.PROBE_AGENT_SEES_ANCHOR}, by PID 1=${res.PROBE_HOST_SEES_ANCHOR}`);
      check('probe: nor do its anchors (containers started by a dockerd in the host namespace would never see them)', Number(res.PROBE_AGENT_SEES_ANCHOR) >= 1 && res.PROBE_HOST_SEES_ANCHOR === '0');
    }
    if (res.PROBE_NOCAP_START_RC !== undefined) {
      log(`probe, agent without CAP_SYS_ADMIN: start exit ${res.PROBE_NOCAP_START_RC}: ${res.PROBE_NOCAP_ERROR}`);
      check('probe: without CAP_SYS_ADMIN the agent cannot start (the one capability is needed)', res.PROBE_NOCAP_START_RC !== '0');
    }
    log(`whole test ${((Date.now() - started) / 1000).toFixed(1)} s (nspawn boot + scenario ${(r.ms / 1000).toFixed(1)} s, scenario itself ${res.SCENARIO_SECONDS} s)`);
  } finally {
    if (process.env.HUSH_SYSTEMD_KEEP_RUN) log(`kept ${runDir} (HUSH_SYSTEMD_KEEP_RUN)`);
    else rmSync(runDir, { recursive: true, force: true });
  }
});

// Without a real systemd: what `hush install systemd --prefix` writes, and sd_notify's no-op and error paths.
test('hush install systemd --prefix writes the units, the 0600 env files and the wrapper; keeps an existing agent.env', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'hush-install-'));
  try {
    const token = `HUSH-1-${'a'.repeat(50)}-${'b'.repeat(25)}`;
    const first = await hush(['install', 'systemd', '--prefix', prefix, '--manager', '10.0.0.1:4242,10.0.0.2:4242', '--token', token]);
    assert.equal(first.code, 0, first.stderr);
    const file = (p: string) => readFileSync(join(prefix, p), 'utf8');
    const mode = (p: string) => (statSync(join(prefix, p)).mode & 0o7777).toString(8);
    for (const unit of ['hush-manager.service', 'hush-agent.service']) {
      assert.equal(file(`etc/systemd/system/${unit}`), readFileSync(join(REPO_ROOT, 'systemd', unit), 'utf8'));
      assert.equal(mode(`etc/systemd/system/${unit}`), '644');
    }
    assert.equal(mode('etc/hush'), '700');
    assert.equal(mode('etc/hush/agent.env'), '600');
    assert.equal(mode('etc/hush/manager.env'), '600');
    const env = file('etc/hush/agent.env');
    assert.match(env, /^HUSH_MANAGERS=10\.0\.0\.1:4242,10\.0\.0\.2:4242$/m);
    assert.match(env, new RegExp(`^HUSH_TOKEN=${token}$`, 'm'));
    assert.match(env, /^HUSH_MOUNT=\/run\/secrets$/m);
    assert.match(env, /^HUSH_AGENT_STATE_DIR=\/var\/lib\/hush\/agent$/m);
    assert.match(env, /^HUSH_ANCHORS=\/run\/hush$/m, 'the anchors directory is written, with its default');
    assert.equal(mode('usr/local/bin/hush'), '755');
    assert.equal(file('usr/local/bin/hush'), `#!/bin/sh\n# Written by \`hush install systemd\`: the hush CLI of ${join(REPO_ROOT, 'dist', 'cli', 'main.js')}.\nexec '${process.execPath}' '${join(REPO_ROOT, 'dist', 'cli', 'main.js')}' "$@"\n`);
    assert.doesNotMatch(first.stdout + first.stderr, new RegExp(token), 'the token is never printed');

    // A second run without agent options rewrites the units but keeps the token-holding agent.env.
    const second = await hush(['install', 'systemd', '--prefix', prefix]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /kept .*agent\.env/);
    assert.equal(file('etc/hush/agent.env'), env);

    // Giving one value keeps the others.
    const third = await hush(['install', 'systemd', '--prefix', prefix, '--mount', '/run/hush-secrets']);
    assert.equal(third.code, 0, third.stderr);
    const env3 = file('etc/hush/agent.env');
    assert.match(env3, /^HUSH_MOUNT=\/run\/hush-secrets$/m);
    assert.match(env3, /^HUSH_MANAGERS=10\.0\.0\.1:4242,10\.0\.0\.2:4242$/m);
    assert.match(env3, new RegExp(`^HUSH_TOKEN=${token}$`, 'm'));
    const noAnchors = await hush(['install', 'systemd', '--prefix', prefix, '--anchors', 'none']);
    assert.equal(noAnchors.code, 0, noAnchors.stderr);
    assert.match(file('etc/hush/agent.env'), /^HUSH_ANCHORS=none$/m);
    assert.match(file('etc/hush/agent.env'), /^HUSH_MOUNT=\/run\/hush-secrets$/m, 'the other values are kept');
    const relAnchors = await hush(['install', 'systemd', '--prefix', prefix, '--anchors', 'run/hush']);
    assert.notEqual(relAnchors.code, 0);
    assert.match(relAnchors.stderr, /^Error: --anchors must be an absolute path/);
    assert.equal(relAnchors.stderr.trim().split('\n').length, 1, relAnchors.stderr);
    assert.match(file('etc/hush/agent.env'), /^HUSH_ANCHORS=none$/m, 'a refused value changes nothing');
    assert.equal(mode('etc/hush/agent.env'), '600');
    const restore = await hush(['install', 'systemd', '--prefix', prefix, '--mount', '/run/secrets', '--anchors', '/run/hush']);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(file('etc/hush/agent.env'), env);

    // Bad input changes nothing and says why in one line.
    const bad = await hush(['install', 'systemd', '--prefix', prefix, '--token', 'not-a-token']);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.equal(file('etc/hush/agent.env'), env);
    const badAddr = await hush(['install', 'systemd', '--prefix', prefix, '--manager', 'nohost']);
    assert.notEqual(badAddr.code, 0);
    assert.equal(file('etc/hush/agent.env'), env);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

test('sd_notify: a no-op without $NOTIFY_SOCKET, false (and logged) when the socket is not there', () => {
  assert.equal(sdNotify({ READY: '1' }, undefined, {}), false);
  assert.equal(sdNotify({ READY: '1' }, undefined, { NOTIFY_SOCKET: 'relative/path' }), false);
  const errors: unknown[] = [];
  const log = { error: (o: unknown) => errors.push(o) } as unknown as Parameters<typeof sdNotify>[1];
  assert.equal(sdNotify({ READY: '1' }, log, { NOTIFY_SOCKET: join(tmpdir(), `hush-no-such-socket-${process.pid}`) }), false);
  assert.equal(sdNotify({ READY: '1' }, log, { NOTIFY_SOCKET: `@hush-no-such-abstract-socket-${process.pid}` }), false);
  assert.equal(errors.length, 2);
  assert.match(JSON.stringify(errors), /ENOENT|ECONNREFUSED/);
});
