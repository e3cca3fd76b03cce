// Per-task propagation anchors (fs/anchors.ts) with real mounts in temporary directories (needs root
// and /dev/fuse, like CI). This process serves the FUSE mounts AND makes the anchor binds of paths in
// them: the binds run on the threadpool (a synchronous mount(2) of a path of our own FUSE mount would
// deadlock; every test here would then time out). Like fs/engines/fuse-native.test.ts, this process touches the
// mounts only with fs.promises or asynchronous child processes.
//
// A "consumer" is what Docker makes of `--mount type=bind,source=<anchors>/<task>,target=...,
// bind-propagation=rslave`: a recursive bind of the task's anchor directory, made a recursive slave.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NodeSecrets, type NodeTask, type SecretPayload } from '../agent/secrets/node-secrets.js';
import { makeShared, TaskAnchors } from './anchors.js';
import { mountSecrets, type MountedSecrets } from './mount.js';
import { peerGroup, readMountInfo, type MountInfoEntry } from './mountinfo.js';
import { detachUnmountIfMountedAsync, nativeSys } from '../common/native.js';
import { run } from './test/fixtures.js';
import { waitFor } from './test/fixtures.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const MOUNT_CHILD = join(HERE, 'test', 'mount-child.js');

// ---- helpers ----

const roots: string[] = [];
const liveMounts = new Set<MountedSecrets>();
const liveAnchors = new Set<TaskAnchors>();

async function tempRoot(): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'hush-anchors-test-'));
  await fsp.chmod(dir, 0o755);
  roots.push(dir);
  return dir;
}

async function runOk(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** What Docker does for `--mount type=bind,source=SRC,target=DST,bind-propagation=rslave`. */
async function consumer(src: string, dst: string): Promise<void> {
  await fsp.mkdir(dst, { recursive: true });
  await runOk('mount', ['--rbind', src, dst]);
  await runOk('mount', ['--make-rslave', dst]);
}

const at = async (path: string) => (await readMountInfo()).filter((m) => m.mountPoint === path);
const below = async (dir: string) => (await readMountInfo()).filter((m) => m.mountPoint.startsWith(dir + '/'));

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

/** The file's text, or its errno name. */
async function readOrError(path: string): Promise<string> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

function task(id: string, name: string, serviceName: string, secretId = 's1', target = 'f'): NodeTask {
  return { id, name, serviceName, files: [{ secretId, secretName: `name-${secretId}`, version: 1, target, uid: 0, gid: 0, mode: 0o444 }] };
}
function payload(id: string, data: string): SecretPayload {
  return { id, name: `name-${id}`, version: 1, data: Buffer.from(data), createdAtMs: 1_700_000_000_000 };
}

async function mount(mp: string, secrets: NodeSecrets): Promise<MountedSecrets> {
  const m = await mountSecrets(mp, secrets);
  liveMounts.add(m);
  return m;
}

async function anchorsFor(dir: string, m: MountedSecrets, secrets: NodeSecrets): Promise<TaskAnchors> {
  const a = new TaskAnchors(dir, m.mountPoint, secrets);
  liveAnchors.add(a);
  await a.start();
  return a;
}

/** Stops the anchors and unmounts: what the agent does on SIGTERM. */
async function stopAgentLike(a: TaskAnchors, m: MountedSecrets, secrets: NodeSecrets): Promise<void> {
  await a.stop();
  liveAnchors.delete(a);
  secrets.wipe();
  await m.unmount();
  liveMounts.delete(m);
}

after(async () => {
  for (const a of liveAnchors) await a.stop().catch(() => {});
  for (const m of liveMounts) await m.unmount().catch(() => {});
  for (const root of roots) {
    // Deepest first, each stack top first; then remove the tree once nothing is mounted below it.
    for (let i = 0; i < 16; i++) {
      const left = (await readMountInfo()).filter((m) => m.mountPoint === root || m.mountPoint.startsWith(root + '/'));
      if (left.length === 0) break;
      left.sort((a, b) => b.mountPoint.length - a.mountPoint.length);
      for (const m of left) await detachUnmountIfMountedAsync(m.mountPoint).catch(() => {});
    }
    if ((await readMountInfo()).some((m) => m.mountPoint.startsWith(root))) continue;
    await fsp.rm(root, { recursive: true, force: true }).catch(() => {});
  }
});

// ---- makeShared ----

describe('makeShared', () => {
  it('binds a plain directory onto itself in a new shared peer group, and keeps that group (and its slaves) when called again', async () => {
    const root = await tempRoot();
    const dir = join(root, 'anchors');
    await fsp.mkdir(join(dir, 'x'), { recursive: true });
    assert.equal((await at(dir)).length, 0);

    assert.equal(await makeShared(dir), 'created');
    const [first] = await at(dir);
    const group = peerGroup(first);
    assert.ok(group !== undefined, `not shared: ${first.optional.join(' ')}`);
    const all = await readMountInfo();
    assert.deepEqual(all.filter((m) => m.id !== first.id && peerGroup(m) === group), [], 'the peer group has no other member here');

    // A consumer (slave) of dir/x, then makeShared again: nothing changes, the slave keeps its master.
    const c = join(root, 'consumer');
    await consumer(join(dir, 'x'), c);
    assert.ok((await at(c))[0].optional.includes(`master:${group}`), (await at(c))[0].optional.join(' '));
    assert.equal(await makeShared(dir), 'kept');
    const again = await at(dir);
    assert.equal(again.length, 1, 'no second self-bind');
    assert.equal(again[0].id, first.id);
    assert.equal(peerGroup(again[0]), group);
    assert.ok((await at(c))[0].optional.includes(`master:${group}`), 'the consumer is still a slave of the anchor directory');

    // And the propagation still reaches it.
    const src = join(root, 'src');
    await fsp.mkdir(src);
    await fsp.writeFile(join(src, 'hello'), 'propagated');
    await nativeSys().bindMount(src, join(dir, 'x'));
    assert.equal(await readOrError(join(c, 'hello')), 'propagated');
    await detachUnmountIfMountedAsync(join(dir, 'x'));
    assert.equal(await readOrError(join(c, 'hello')), 'ENOENT', 'the detach propagated too');
  });

  it('makes a private mount point, or one that shares its peer group with another mount, its own shared peer group', async () => {
    const root = await tempRoot();
    const priv = join(root, 'private');
    await fsp.mkdir(priv);
    await nativeSys().bindMount(priv, priv);
    nativeSys().setPropagation(priv, 'private');
    assert.equal(peerGroup((await at(priv))[0]), undefined);
    assert.equal(await makeShared(priv), 'reshared');
    assert.ok(peerGroup((await at(priv))[0]) !== undefined);

    // `peer` is a bind of a shared mount: the same peer group as `priv`.
    const peer = join(root, 'peer');
    await fsp.mkdir(peer);
    await nativeSys().bindMount(priv, peer);
    const group = peerGroup((await at(priv))[0]);
    assert.equal(peerGroup((await at(peer))[0]), group);
    assert.equal(await makeShared(peer), 'reshared');
    const g2 = peerGroup((await at(peer))[0]);
    assert.ok(g2 !== undefined && g2 !== group, `peer group ${g2} (was ${group})`);
  });
});

// ---- TaskAnchors ----

describe('TaskAnchors', () => {
  it('binds <mount>/<task> on DIR/<task>/secrets for every task (not the service aliases), read-only, and detaches it when the task goes; directories stay', async () => {
    const root = await tempRoot();
    const secrets = new NodeSecrets();
    secrets.replaceAll([task('t1', 'web.1', 'web', 's1', 'pw')], [payload('s1', 'one')]);
    const m = await mount(join(root, 'mnt'), secrets);
    const dir = join(root, 'run', 'hush');
    const umask = process.umask(0o077); // as under the systemd unit: the anchors must still be 0755
    let a: TaskAnchors;
    try {
      a = await anchorsFor(dir, m, secrets);
    } finally {
      process.umask(umask);
    }
    const dirMount = (await at(dir))[0];
    assert.ok(dirMount && peerGroup(dirMount) !== undefined, 'the anchor directory is a shared mount point');
    assert.equal((await fsp.stat(dir)).mode & 0o7777, 0o755);
    assert.deepEqual(await below(dir), [], 'nothing is bound before follow() (the first COMPLETE)');

    process.umask(0o077);
    try {
      await a.follow();
    } finally {
      process.umask(umask);
    }
    assert.equal(await readOrError(join(dir, 'web.1', 'secrets', 'pw')), 'one');
    assert.deepEqual([...a.anchors()], [['web.1', join(dir, 'web.1')]]);
    const [b] = await at(join(dir, 'web.1', 'secrets'));
    assert.equal(b.fstype, 'fuse');
    assert.equal(b.source, 'hush');
    assert.ok(b.mountOptions.includes('ro'), `bind options ${b.mountOptions.join(',')}`);
    assert.ok(b.superOptions.includes('ro'), `super options ${b.superOptions.join(',')}`);
    assert.equal(await errorCode(fsp.writeFile(join(dir, 'web.1', 'secrets', 'pw'), 'x')), 'EROFS');
    assert.equal(await errorCode(fsp.writeFile(join(dir, 'web.1', 'secrets', 'new'), 'x')), 'EROFS');
    assert.equal((await fsp.lstat(join(dir, 'web.1'))).mode & 0o7777, 0o755, 'DIR/<task> is 0755 despite the umask');
    assert.equal(await errorCode(fsp.stat(join(dir, 'web'))), 'ENOENT', 'the service alias `web` is not anchored');

    // A second task of the service: the alias goes in the view, a second anchor comes.
    secrets.apply([task('t2', 'web.2', 'web', 's1', 'pw')], [], []);
    await a.sync();
    assert.equal(await readOrError(join(dir, 'web.2', 'secrets', 'pw')), 'one');
    assert.deepEqual((await below(dir)).map((e) => e.mountPoint).sort(), [join(dir, 'web.1', 'secrets'), join(dir, 'web.2', 'secrets')]);

    // Removing a task detaches its bind (on the change itself: follow()); its directories stay.
    secrets.apply([], ['t1'], []);
    await waitFor('the anchor of web.1 to be detached', async () => (await at(join(dir, 'web.1', 'secrets'))).length === 0);
    assert.equal(await readOrError(join(dir, 'web.1', 'secrets', 'pw')), 'ENOENT');
    assert.ok((await fsp.stat(join(dir, 'web.1', 'secrets'))).isDirectory(), 'the anchor directory is kept');
    assert.equal(await readOrError(join(dir, 'web.2', 'secrets', 'pw')), 'one');

    // The same task name again: bound again on the same (kept) directory.
    secrets.apply([task('t3', 'web.1', 'web', 's1', 'pw')], [], []);
    await waitFor('web.1 bound again', async () => (await readOrError(join(dir, 'web.1', 'secrets', 'pw'))) === 'one');
    assert.equal((await at(join(dir, 'web.1', 'secrets'))).length, 1);

    await stopAgentLike(a, m, secrets);
    assert.deepEqual(await below(dir), [], 'stop() detaches every anchor');
    assert.equal((await at(dir)).length, 1, 'the anchor directory stays a mount point (its consumers are its slaves)');
  });

  it('a task name two services claim (an older manager\'s `web.1`) is not anchored, and its anchor is detached until the clash goes', async () => {
    const root = await tempRoot();
    const secrets = new NodeSecrets();
    secrets.replaceAll([task('t1', 'web.1', 'web', 's1', 'pw')], [payload('s1', 'web-value'), payload('s2', 'glob-value')]);
    const m = await mount(join(root, 'mnt'), secrets);
    const dir = join(root, 'anchors');
    const a = await anchorsFor(dir, m, secrets);
    await a.follow();
    assert.equal(await readOrError(join(dir, 'web.1', 'secrets', 'pw')), 'web-value');

    // The global service `web.1`: its task is named web.1 too. Neither is served, nor anchored.
    secrets.apply([task('g1', 'web.1', 'web.1', 's2', 'pw')], [], []);
    await waitFor('the anchor of web.1 to be detached', async () => (await at(join(dir, 'web.1', 'secrets'))).length === 0);
    assert.equal(await readOrError(join(dir, 'web.1', 'secrets', 'pw')), 'ENOENT');
    await a.sync(); // the run that detached it has finished too
    assert.deepEqual([...a.anchors()], []);
    assert.deepEqual(await below(dir), [], 'not bound again while the clash lasts (no failing bind retried)');

    secrets.apply([], ['g1'], []);
    await waitFor('web.1 bound again', async () => (await readOrError(join(dir, 'web.1', 'secrets', 'pw'))) === 'web-value');
    await stopAgentLike(a, m, secrets);
  });

  it('a consumer with bind-propagation=rslave reads again after the agent restarts (stop + new mount + new anchors): ENOENT in between, never ENOTCONN', async () => {
    const root = await tempRoot();
    const mp = join(root, 'mnt');
    const dir = join(root, 'anchors');
    let secrets = new NodeSecrets();
    secrets.replaceAll([task('t1', 'app.1', 'app')], [payload('s1', 'before')]);
    let m = await mount(mp, secrets);
    let a = await anchorsFor(dir, m, secrets);
    await a.follow();
    const c = join(root, 'container', 'run', 'hush');
    await consumer(join(dir, 'app.1'), c);
    assert.equal(await readOrError(join(c, 'secrets', 'f')), 'before');
    const cm = (await at(join(c, 'secrets')))[0];
    assert.ok(cm && cm.mountOptions.includes('ro'), 'the consumer\'s copy is read-only');

    await stopAgentLike(a, m, secrets);
    assert.equal(await readOrError(join(c, 'secrets', 'f')), 'ENOENT', 'the detach propagated to the consumer');
    assert.deepEqual(await at(join(c, 'secrets')), []);

    secrets = new NodeSecrets();
    secrets.replaceAll([task('t1', 'app.1', 'app')], [payload('s1', 'after')]);
    m = await mount(mp, secrets);
    a = await anchorsFor(dir, m, secrets);
    assert.equal(await readOrError(join(c, 'secrets', 'f')), 'ENOENT', 'nothing before the first COMPLETE');
    await a.follow();
    assert.equal(await readOrError(join(c, 'secrets', 'f')), 'after', 'the new bind propagated to the consumer');

    // Revocation reaches the consumer as well.
    secrets.apply([], ['t1'], []);
    await a.sync();
    assert.equal(await readOrError(join(c, 'secrets', 'f')), 'ENOENT');
    await stopAgentLike(a, m, secrets);
  });

  it('after a kill -9 of the agent, start() detaches its dead binds (consumers: ENOTCONN → ENOENT) and follow() binds the new mount', async () => {
    const root = await tempRoot();
    const mp = join(root, 'mnt');
    const dir = join(root, 'anchors');
    const child = spawn(process.execPath, [MOUNT_CHILD, mp, 'first', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      await waitFor('the child to mount and anchor', () => out.includes('ready'), 15_000).catch((e: Error) => { throw new Error(`${e.message}: ${err}`); });
      const c = join(root, 'consumer');
      await consumer(join(dir, 'web.1'), c);
      assert.equal(await readOrError(join(c, 'secrets', 'f')), 'first');
      // While that agent runs, a second one may not use its anchor directory (its start would detach the binds).
      const other = new NodeSecrets();
      const om = await mount(join(root, 'other-mnt'), other);
      await assert.rejects(new TaskAnchors(dir, om.mountPoint, other).start(), /anchor directory of another running agent \(pid \d+, mount .*\/mnt\)/);
      assert.equal(await readOrError(join(c, 'secrets', 'f')), 'first', 'the refused start detached nothing');
      await om.unmount();
      liveMounts.delete(om);
      child.kill('SIGKILL');
      await exited;
      // auto_unmount removes the mount itself; the anchor binds stay, with a dead connection.
      await waitFor('auto_unmount of the killed mount', async () => (await at(mp)).length === 0);
      assert.equal(await readOrError(join(c, 'secrets', 'f')), 'ENOTCONN');
      assert.equal((await below(dir)).length, 1);

      const secrets = new NodeSecrets();
      secrets.replaceAll([task('t9', 'web.1', 'web')], [payload('s1', 'second')]);
      const m = await mount(mp, secrets);
      const a = await anchorsFor(dir, m, secrets);
      assert.deepEqual(await below(dir), [], 'the dead binds are gone');
      assert.equal(await readOrError(join(c, 'secrets', 'f')), 'ENOENT', 'the consumer sees ENOENT, no longer ENOTCONN');
      await a.follow();
      assert.equal(await readOrError(join(c, 'secrets', 'f')), 'second');
      await stopAgentLike(a, m, secrets);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('serializes: a burst of changes ends with exactly one bind per task, none for removed tasks', async () => {
    const root = await tempRoot();
    const secrets = new NodeSecrets();
    secrets.replaceAll([], [payload('s1', 'v')]);
    const m = await mount(join(root, 'mnt'), secrets);
    const dir = join(root, 'anchors');
    const a = await anchorsFor(dir, m, secrets);
    await a.follow();
    for (let i = 0; i < 40; i++) {
      secrets.apply([task(`t${i % 7}`, `svc${i % 7}.1`, `svc${i % 7}`)], i >= 3 ? [`t${(i - 3) % 7}`] : [], []);
      if (i % 5 === 0) void a.sync();
    }
    await a.sync();
    const want = secrets.taskList().map((t) => t.name).sort();
    assert.ok(want.length > 0);
    const mounts: MountInfoEntry[] = await below(dir);
    assert.deepEqual(mounts.map((e) => e.mountPoint).sort(), want.map((n) => join(dir, n, 'secrets')), 'one bind per task, no stacked binds');
    assert.deepEqual([...a.anchors().keys()].sort(), want);
    for (const n of want) assert.equal(await readOrError(join(dir, n, 'secrets', 'f')), 'v');
    await stopAgentLike(a, m, secrets);
  });

  it('a bind that fails (the anchor path is not a directory) is logged and retried until it works', async () => {
    const root = await tempRoot();
    const secrets = new NodeSecrets();
    secrets.replaceAll([task('t1', 'job.1', 'job')], [payload('s1', 'v')]);
    const m = await mount(join(root, 'mnt'), secrets);
    const dir = join(root, 'anchors');
    const errors: string[] = [];
    const log = { info: () => {}, warn: () => {}, error: (o: { err?: string }, msg: string) => errors.push(`${msg}: ${o.err}`) } as unknown as ConstructorParameters<typeof TaskAnchors>[3];
    const a = new TaskAnchors(dir, m.mountPoint, secrets, log);
    liveAnchors.add(a);
    await a.start();
    await fsp.mkdir(join(dir, 'job.1'));
    await fsp.writeFile(join(dir, 'job.1', 'secrets'), 'not a directory');
    await a.follow();
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /cannot bind a task anchor: .*(not a directory|EEXIST)/);
    assert.deepEqual(await below(dir), []);
    await fsp.rm(join(dir, 'job.1', 'secrets'));
    await waitFor('the retry to bind job.1', async () => (await readOrError(join(dir, 'job.1', 'secrets', 'f'))) === 'v', 5000);
    await stopAgentLike(a, m, secrets);
  });

  it('refuses an anchor directory that contains the mount point or lies inside it', async () => {
    const root = await tempRoot();
    const secrets = new NodeSecrets();
    const m = await mount(join(root, 'mnt'), secrets);
    await assert.rejects(new TaskAnchors(root, m.mountPoint, secrets).start(), /must not contain each other/);
    await assert.rejects(new TaskAnchors(m.mountPoint, m.mountPoint, secrets).start(), /must not contain each other/);
    assert.throws(() => new TaskAnchors('relative/dir', m.mountPoint, secrets), /absolute path/);
    assert.deepEqual(await at(root), [], 'nothing was mounted');
    await m.unmount();
    liveMounts.delete(m);
  });
});
