// The view scenarios both FUSE engines must pass, written once: fs/engines/fuse-native.test.ts runs them for
// fuse-native (fs/ops.ts), fs/engines/native.test.ts for the native engine (fs/native/hushfs_*.c).
// Real FUSE mounts in temporary directories (needs root and /dev/fuse, like CI).
// The test process reads its own mounts only with async fs.promises calls or from child processes,
// never with a synchronous fs call (with fuse-native, that would block the thread serving the
// requests). Every mount goes through trackedMount: the calling file's after(cleanup) unmounts it
// if a test fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NodeSecrets, type ViewSnapshot } from '../../agent/secrets/node-secrets.js';
import type { MountedSecrets } from '../mount.js';
import { mountInfoAt } from '../mountinfo.js';
import { T1, Child, errorCode, fusermountHelperFor, payload, ref, run, task, tempMountPoint, trackedMount, unmount, waitFor } from './fixtures.js';
import { RandomChanges } from './random-changes.js';
import { MAPPER } from './mapper.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const READER = join(HERE, 'reader.js');
export const MOUNT_CHILD = join(HERE, 'mount-child.js');
export const NOBODY = 65534;
const FUSE_SUPER_MAGIC = 0x65735546;

/** What differs between the engines, for the shared scenarios. */
export interface FsEngine<M extends MountedSecrets = MountedSecrets> {
  /** Names the engine in the describe titles ('fuse-native', 'native'). */
  name: 'fuse-native' | 'native' | 'native-ll';
  /** Mounts with this engine (not tracked: the suite tracks it). */
  mount(mp: string, secrets: NodeSecrets): Promise<M>;
  /** false, or why this engine's tests are skipped. */
  skip: string | false;
  /** The errors a read on a revoked handle may give. */
  revokedReadErrors: readonly string[];
  /** Versions this engine holds in memory, old ones kept by open handles included. */
  versionsHeld(m: M, secrets: NodeSecrets): number;
  /** File handles this engine has open. */
  openHandles(m: M, secrets: NodeSecrets): number;
  /** The addon a process that mounts with this engine has loaded (its /proc/PID/maps). */
  addon: RegExp;
  /** Engine-specific checks, run at these points of the shared scenarios. */
  checks?: {
    /** Rotation: v1 replaced while a reader holds it open (`before`: versionsHeld before the change). */
    rotatedWhileOpen?(m: M, v1: Buffer, before: number): void;
    /** After every handle is closed, at the end of the view scenarios. */
    allClosed?(m: M, secrets: NodeSecrets): void;
    /** Unmounted while a reader holds a file open: before and after that reader closes it. */
    detachedWhileOpen?(m: M): void;
    detachedClosed?(m: M): Promise<void>;
    /** The seeded random sequence, after each change (`bindings`: the references the view serves). */
    randomStep?(m: M, view: ViewSnapshot, bindings: Set<string>, what: string): void;
  };
}

/** Two stacked dead FUSE mounts at `mp`, as a daemon killed without auto_unmount leaves behind. */
async function makeStaleMount(mp: string): Promise<void> {
  const dev = await fsp.open('/dev/fuse', 'r+');
  try {
    const child = spawn('mount', ['-i', '-t', 'fuse', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'hush-stale-test', mp], {
      stdio: ['ignore', 'ignore', 'pipe', dev.fd],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `mount -t fuse failed: ${stderr}`);
  } finally {
    await dev.close(); // no daemon: the connection is dead from here on
  }
}

/**
 * A directory's entries in the order the file system gives them, listed by a child process:
 * fsp.readdir sorts them, and fsp.opendir lstat()s each entry of unknown type synchronously
 * (fuse-native gives no d_type), which would deadlock the process that serves the mount.
 */
export async function listInOrder(path: string): Promise<string[]> {
  const ls = await run('ls', ['-1AU', path]);
  assert.equal(ls.code, 0, `ls ${path}: ${ls.stderr}`);
  return ls.stdout.split('\n').filter((name) => name !== '');
}

/** The mount serves exactly `view`: listings (in order), attributes, sizes, bytes. */
export async function assertServes(mp: string, view: ViewSnapshot, what: string): Promise<void> {
  assert.deepEqual(await listInOrder(mp), view.rootNames, `${what}: root listing`);
  for (const d of view.dirs) {
    const p = join(mp, d.path);
    assert.deepEqual(await listInOrder(p), d.names, `${what}: listing of ${d.path}`);
    const st = await fsp.stat(p);
    assert.ok(st.isDirectory(), `${what}: ${d.path} is a directory`);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.mtimeMs], [d.uid, d.gid, d.mode, d.mtimeMs], `${what}: attributes of ${d.path}`);
  }
  for (const f of view.files) {
    const p = join(mp, f.path);
    const bytes = view.versions.get(f.version)!;
    const st = await fsp.stat(p);
    assert.ok(st.isFile(), `${what}: ${f.path} is a file`);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.size, st.mtimeMs], [f.uid, f.gid, f.mode, bytes.length, f.mtimeMs], `${what}: attributes of ${f.path}`);
    assert.ok((await fsp.readFile(p)).equals(bytes), `${what}: bytes of ${f.path}`);
  }
}

/** Reads a handle whole from offset 0: its text, or the error code. */
export async function readHandle(fh: fsp.FileHandle): Promise<string> {
  try {
    const buf = Buffer.alloc(1 << 16);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

const asNobody = (cmd: string, path: string) => run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', cmd, path]);

/** Declares the view and lifecycle scenarios for `engine`. */
export function viewScenarios<M extends MountedSecrets>(engine: FsEngine<M>): void {
  const { skip } = engine;
  const mount = (mp: string, secrets: NodeSecrets): Promise<M> => trackedMount(engine.mount, mp, secrets);
  const assertRevoked = (got: Record<string, unknown>, what: string) => {
    assert.ok(engine.revokedReadErrors.includes(got.error as string), `${what}: ${JSON.stringify(got)} (expected ${engine.revokedReadErrors.join(' or ')})`);
    assert.equal(got.text, undefined, what);
  };

  describe(`the ${engine.name} engine's FUSE view of NodeSecrets`, { timeout: 120_000, skip }, () => {
    const secrets = new NodeSecrets();
    let mp = '';
    let m: M;
    const webTask = task('t1', 'web.1', 'web', [ref('s1', 1, 'db', { uid: 1000, gid: 1001, mode: 0o440 })]);
    const api1 = task('t2', 'api.1', 'api', [ref('s2', 1, 'key')]);
    const api2 = task('t3', 'api.2', 'api', [ref('s2', 1, 'key')]);
    const permTask = task('t4', 'perm.1', 'perm', [ref('s3', 1, 'rootonly', { mode: 0o400 }), ref('s4', 1, 'world', { mode: 0o444 })]);
    const ownTask = task('t5', 'own.1', 'own', [ref('s3', 1, 'rootonly', { mode: 0o400 }), ref('s4', 1, 'mine', { uid: NOBODY, gid: NOBODY, mode: 0o400 })]);
    const allTasks = () => [webTask, api1, api2, permTask, ownTask];
    const payloads = () => [
      payload('s1', 1, 'db-password-v1', T1),
      payload('s2', 1, 'api-key'),
      payload('s3', 1, 'root-only-data'),
      payload('s4', 1, 'world-readable'),
    ];

    before(async () => {
      secrets.replaceAll(allTasks(), payloads());
      mp = await tempMountPoint();
      m = await mount(mp, secrets);
    });
    after(async () => {
      if (m) await unmount(m);
    });

    it('is mounted read-only, as hush, with default_permissions, allow_other and an auto_unmount helper', async () => {
      const entries = await mountInfoAt(m.mountPoint);
      assert.equal(entries.length, 1);
      const [e] = entries;
      assert.equal(e.fstype, 'fuse');
      assert.equal(e.source, 'hush');
      assert.ok(e.mountOptions.includes('ro'), `mount options: ${e.mountOptions.join(',')}`);
      for (const o of ['ro', 'default_permissions', 'allow_other']) assert.ok(e.superOptions.includes(o), `super options lack ${o}: ${e.superOptions.join(',')}`);
      const helper = await fusermountHelperFor(m.mountPoint);
      assert.ok(helper?.includes('auto_unmount'), `fusermount helper: ${helper}`);
      const st = await fsp.statfs(mp);
      assert.equal(st.type, FUSE_SUPER_MAGIC);
      assert.equal(st.bsize, 4096);
      assert.equal(st.files, 8, 'statfs files = the root\'s entries');
    });

    it('marks its /dev/fuse descriptor close-on-exec', async () => {
      let fuseFds = 0;
      for (const fd of await fsp.readdir('/proc/self/fd')) {
        const target = await fsp.readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target !== '/dev/fuse') continue;
        fuseFds++;
        const flags = (await fsp.readFile(`/proc/self/fdinfo/${fd}`, 'utf8')).match(/^flags:\s+(\d+)/m)?.[1];
        assert.ok(flags && (parseInt(flags, 8) & 0o2000000) !== 0, `fd ${fd} flags ${flags}`);
      }
      assert.ok(fuseFds >= 1);
    });

    it('lists every task, and a service alias only for a service with one task here', async () => {
      assert.deepEqual((await fsp.readdir(mp)).sort(), ['api.1', 'api.2', 'own', 'own.1', 'perm', 'perm.1', 'web', 'web.1']);
      assert.deepEqual(await fsp.readdir(join(mp, 'web.1')), ['db']);
      assert.deepEqual((await fsp.readdir(join(mp, 'perm.1'))).sort(), ['rootonly', 'world']);
      assert.equal(await errorCode(fsp.stat(join(mp, 'api'))), 'ENOENT');

      secrets.apply([], ['t3'], []);
      try {
        assert.equal(await fsp.readFile(join(mp, 'api', 'key'), 'utf8'), 'api-key', 'one api task left: /api appears at once');
      } finally {
        secrets.apply([api2], [], []);
      }
      assert.equal(await errorCode(fsp.stat(join(mp, 'api', 'key'))), 'ENOENT', 'two api tasks again: /api is gone at once');
    });

    it('serves each file with its bytes, uid, gid, mode, size and version time (also under the alias)', async () => {
      for (const p of [join(mp, 'web.1', 'db'), join(mp, 'web', 'db')]) {
        assert.equal(await fsp.readFile(p, 'utf8'), 'db-password-v1');
        const st = await fsp.stat(p);
        assert.ok(st.isFile());
        assert.equal(st.uid, 1000);
        assert.equal(st.gid, 1001);
        assert.equal(st.mode & 0o7777, 0o440);
        assert.equal(st.size, 'db-password-v1'.length);
        assert.equal(st.mtimeMs, T1);
        assert.equal(st.nlink, 1);
      }
      const dir = await fsp.stat(join(mp, 'web.1'));
      assert.ok(dir.isDirectory());
      assert.equal(dir.uid, 1000);
      assert.equal(dir.gid, 1001);
      assert.equal(dir.mode & 0o7777, 0o550);
      assert.equal(dir.mtimeMs, T1);
      const root = await fsp.stat(mp);
      assert.ok(root.isDirectory());
      assert.equal(root.mode & 0o7777, 0o711);
      assert.equal(root.uid, 0);
      assert.equal(root.gid, 0);
    });

    it('lets the kernel enforce modes for other uids (default_permissions)', async () => {
      const denied = await asNobody('cat', join(mp, 'perm.1', 'rootonly'));
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /Permission denied/);
      assert.equal(denied.stdout, '');
      const world = await asNobody('cat', join(mp, 'perm.1', 'world'));
      assert.equal(world.code, 0, world.stderr);
      assert.equal(world.stdout, 'world-readable');
      // A file owned by nobody in a directory owned by root: reachable (search bit), the neighbour is not.
      const mine = await asNobody('cat', join(mp, 'own.1', 'mine'));
      assert.equal(mine.code, 0, mine.stderr);
      assert.equal(mine.stdout, 'world-readable');
      assert.match((await asNobody('cat', join(mp, 'own.1', 'rootonly'))).stderr, /Permission denied/);
      const ls = await asNobody('ls', join(mp, 'own.1'));
      assert.notEqual(ls.code, 0, 'nobody may not list the directory');
      // root reads everything
      assert.equal(await fsp.readFile(join(mp, 'perm.1', 'rootonly'), 'utf8'), 'root-only-data');
    });

    it('lets only root list the root: another uid gets EACCES there, yet reaches its own file by its known path', async () => {
      const ls = await asNobody('ls', mp);
      assert.notEqual(ls.code, 0, `nobody listed the root: ${ls.stdout}`);
      assert.match(ls.stderr, /Permission denied/);
      assert.equal(ls.stdout, '', 'no task or service name leaks to another uid');
      const st = await asNobody('stat', join(mp, 'own.1', 'mine'));
      assert.equal(st.code, 0, st.stderr);
      const mine = await asNobody('cat', join(mp, 'own.1', 'mine'));
      assert.equal(mine.code, 0, mine.stderr);
      assert.equal(mine.stdout, 'world-readable');
      // root still lists everything.
      assert.deepEqual((await fsp.readdir(mp)).sort(), ['api.1', 'api.2', 'own', 'own.1', 'perm', 'perm.1', 'web', 'web.1']);
    });

    it('refuses every write with EROFS', async () => {
      const file = join(mp, 'web.1', 'db');
      const dir = join(mp, 'web.1');
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['write existing', () => fsp.writeFile(file, 'x')],
        ['append', () => fsp.appendFile(file, 'x')],
        ['open r+', () => fsp.open(file, 'r+').then((h) => h.close())],
        ['create', () => fsp.writeFile(join(dir, 'new'), 'x')],
        ['create in root', () => fsp.open(join(mp, 'new'), constants.O_CREAT | constants.O_RDONLY).then((h) => h.close())],
        ['unlink', () => fsp.unlink(file)],
        ['chmod', () => fsp.chmod(file, 0o777)],
        ['chown', () => fsp.chown(file, 1, 1)],
        ['rename', () => fsp.rename(file, join(dir, 'moved'))],
        ['mkdir', () => fsp.mkdir(join(mp, 'newdir'))],
        ['rmdir', () => fsp.rmdir(dir)],
        ['truncate', () => fsp.truncate(file, 0)],
        ['utimes', () => fsp.utimes(file, 1, 1)],
        ['symlink', () => fsp.symlink('/etc/passwd', join(dir, 'link'))],
        ['link', () => fsp.link(file, join(dir, 'hard'))],
      ];
      for (const [name, op] of cases) assert.equal(await errorCode(op()), 'EROFS', name);
      const setfattr = await run('setfattr', ['-n', 'user.x', '-v', '1', file]).catch(() => undefined);
      if (setfattr) assert.match(setfattr.stderr, /Read-only file system/);
      assert.equal(await fsp.readFile(file, 'utf8'), 'db-password-v1', 'unchanged');
    });

    // The documented mmap behaviour (README, the mount). If an engine ever lets MAP_SHARED through
    // (FUSE_DIRECT_IO_ALLOW_MMAP), this fails: review revocation before changing the expectation.
    it('mmap: MAP_SHARED fails with ENODEV (direct_io), MAP_PRIVATE reads the bytes, a revoked file cannot be faulted in', async () => {
      secrets.apply([task('t8', 'mapped.1', 'mapped', [ref('s2', 1, 'f', { mode: 0o444 })])], [], []);
      const mapper = new Child(['-c', MAPPER, join(mp, 'mapped.1', 'f')], process.env, 'python3');
      try {
        assert.deepEqual(await mapper.json(), { step: 'read', text: 'api-key' }, 'read() works');
        assert.deepEqual(await mapper.json(), { step: 'shared', error: 'ENODEV' }, 'a shared mapping is refused');
        assert.deepEqual(await mapper.json(), { step: 'private', text: 'api-key' }, 'a private mapping reads the file');
        assert.deepEqual(await mapper.json(), { step: 'mapped' });

        secrets.apply([], ['t8'], []);
        mapper.send('read');
        assertRevoked(await mapper.json(), 'read() on the revoked descriptor');
        // The mapping made before the revocation gets no page of it: the fault's read is refused too.
        mapper.send('touch');
        const exit = await Promise.race([mapper.exited, new Promise<never>((_, fail) => setTimeout(() => fail(new Error('the mapper is still alive')), 10_000))]);
        assert.deepEqual(exit, { code: null, signal: 'SIGBUS' }, `stderr: ${mapper.stderr}`);
      } finally {
        mapper.kill();
        if (secrets.taskList().some((t) => t.id === 't8')) secrets.apply([], ['t8'], []);
      }
    });

    it('answers ENOENT for unknown paths, and shows a new task at once (no negative caching)', async () => {
      assert.equal(await errorCode(fsp.stat(join(mp, 'nope'))), 'ENOENT');
      assert.equal(await errorCode(fsp.readFile(join(mp, 'web.1', 'nope'))), 'ENOENT');
      assert.equal(await errorCode(fsp.readFile(join(mp, 'web.1', 'db', 'deeper'))), 'ENOTDIR');
      const late = join(mp, 'late.1', 'f');
      assert.equal(await errorCode(fsp.stat(late)), 'ENOENT');
      secrets.apply([task('t9', 'late.1', 'late', [ref('s2', 1, 'f', { mode: 0o444 })])], [], []);
      assert.equal(await fsp.readFile(late, 'utf8'), 'api-key');
      secrets.apply([], ['t9'], []);
      assert.equal(await errorCode(fsp.stat(late)), 'ENOENT');
    });

    it('revocation: removing the task hides its files at once and fails the next read of an open fd', async () => {
      const file = join(mp, 'web.1', 'db');
      const reader = new Child([READER, file]);
      try {
        const first = await reader.json();
        assert.equal(first.text, 'db-password-v1');
        reader.send('read');
        assert.equal((await reader.json()).text, 'db-password-v1', 'reads again while the task is here');

        secrets.apply([], ['t1'], []);
        assert.equal(await errorCode(fsp.stat(file)), 'ENOENT');
        assert.equal(await errorCode(fsp.stat(join(mp, 'web', 'db'))), 'ENOENT');
        reader.send('read');
        assertRevoked(await reader.json(), 'read after revocation');

        // The task comes back (same id): the old fd stays revoked, a new open works.
        secrets.apply([webTask], [], []);
        reader.send('read');
        assert.ok((await reader.json()).error, 'a handle from before stays revoked');
        assert.equal(await fsp.readFile(file, 'utf8'), 'db-password-v1');
        reader.send('close');
        await reader.json();
      } finally {
        reader.kill();
        secrets.apply([webTask], [], []);
      }
    });

    it('revocation: dropping a reference from a task that stays fails the next read of an open fd (also one opened by the alias)', async () => {
      const file = join(mp, 'perm.1', 'world');
      const reader = new Child([READER, file]);
      const aliasReader = new Child([READER, join(mp, 'perm', 'world')]);
      try {
        assert.equal((await reader.json()).text, 'world-readable');
        assert.equal((await aliasReader.json()).text, 'world-readable');
        secrets.apply([task('t4', 'perm.1', 'perm', [ref('s3', 1, 'rootonly', { mode: 0o400 })])], [], []);
        assert.equal(await errorCode(fsp.stat(file)), 'ENOENT');
        assert.deepEqual(await fsp.readdir(join(mp, 'perm.1')), ['rootonly']);
        for (const r of [reader, aliasReader]) {
          r.send('read');
          assertRevoked(await r.json(), 'read after the reference went');
        }
      } finally {
        reader.kill();
        aliasReader.kill();
        secrets.apply([permTask], [], []);
      }
    });

    it('a reference pointed at another secret under the same target revokes the handles on the old one', async () => {
      const file = join(mp, 'perm.1', 'world');
      const reader = new Child([READER, file]);
      try {
        assert.equal((await reader.json()).text, 'world-readable');
        secrets.apply([task('t4', 'perm.1', 'perm', [ref('s3', 1, 'rootonly', { mode: 0o400 }), ref('s2', 1, 'world', { mode: 0o444 })])], [], []);
        assert.equal(await fsp.readFile(file, 'utf8'), 'api-key');
        reader.send('read');
        assertRevoked(await reader.json(), 'read after the reference moved');
      } finally {
        reader.kill();
        secrets.apply([permTask], [], []);
      }
    });

    it('rotation: an open fd reads the old version whole, a new open reads the new one; the old copy is freed and zeroed at close', async () => {
      const v1 = randomBytes(300_000); // several FUSE reads
      const v1sha = createHash('sha256').update(v1).digest('hex');
      const rot = (version: number) => task('t6', 'rot.1', 'rot', [ref('s6', version, 'f', { mode: 0o444 })]);
      secrets.apply([rot(1)], [], [payload('s6', 1, v1)]);
      const file = join(mp, 'rot.1', 'f');
      const reader = new Child([READER, file]);
      try {
        const first = await reader.json();
        assert.equal(first.len, v1.length);
        assert.equal(first.sha256, v1sha);
        const before = engine.versionsHeld(m, secrets);

        // v2 replaces v1 in one change (and v1 is removed from the node).
        secrets.apply([rot(2)], [], [payload('s6', 2, 'v2-small', T1 + 2)], [{ id: 's6', version: 1 }]);
        assert.equal(await fsp.readFile(file, 'utf8'), 'v2-small');
        assert.equal((await fsp.stat(file)).size, 8);
        assert.equal((await fsp.stat(file)).mtimeMs, T1 + 2);
        reader.send('read');
        const again = await reader.json();
        assert.equal(again.len, v1.length, 'the old fd reads v1 whole, past the new size');
        assert.equal(again.sha256, v1sha);
        assert.equal(engine.versionsHeld(m, secrets), before + 1, 'v1 still held for the open fd, beside v2');
        engine.checks?.rotatedWhileOpen?.(m, v1, before);

        reader.send('close');
        await reader.json();
        // RELEASE reaches the daemon asynchronously after close(2).
        await waitFor('v1 dropped', () => engine.versionsHeld(m, secrets) === before);
        assert.ok(v1.every((b) => b === 0), 'v1 zeroed');
      } finally {
        reader.kill();
        secrets.apply([], ['t6'], [], [{ id: 's6', version: 2 }]);
      }
    });

    it('closes every handle it opened, and then holds exactly the versions the view serves', async () => {
      await waitFor('no open handles', () => engine.openHandles(m, secrets) === 0);
      // Versions kept only for handles (rotation, revocation above) are gone with the last handle.
      assert.equal(engine.versionsHeld(m, secrets), secrets.view().versions.size);
      engine.checks?.allClosed?.(m, secrets);
    });
  });

  describe(`${engine.name} engine lifecycle`, { timeout: 120_000, skip }, () => {
    it('creates a missing mount point 0755; unmount is idempotent and leaves no mount', async () => {
      const mp = await tempMountPoint(true);
      const secrets = new NodeSecrets();
      const m = await mount(mp, secrets);
      assert.equal((await mountInfoAt(m.mountPoint)).length, 1);
      assert.deepEqual(await fsp.readdir(mp), []);
      await unmount(m);
      await m.unmount();
      assert.equal((await mountInfoAt(m.mountPoint)).length, 0);
      const st = await fsp.stat(mp);
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o7777, 0o755);
    });

    it(`unmount detaches at once; a reader holding a file open is still served and still revoked${engine.checks?.detachedClosed ? '; the loop ends at its close' : ''}`, async () => {
      const mp = await tempMountPoint();
      const secrets = new NodeSecrets();
      secrets.replaceAll([task('t1', 'a.1', 'a', [ref('s1', 1, 'f', { mode: 0o444 })])], [payload('s1', 1, 'held-open')]);
      const m = await mount(mp, secrets);
      const reader = new Child([READER, join(mp, 'a.1', 'f')]);
      try {
        assert.equal((await reader.json()).text, 'held-open');
        await unmount(m);
        assert.equal((await mountInfoAt(m.mountPoint)).length, 0);
        assert.equal(await errorCode(fsp.stat(join(mp, 'a.1'))), 'ENOENT', 'the path is a plain empty directory again');
        reader.send('read');
        assert.equal((await reader.json()).text, 'held-open', 'the open file is still served');
        secrets.wipe();
        reader.send('read');
        assert.ok((await reader.json()).error, 'the detached connection still refuses revoked reads');
        engine.checks?.detachedWhileOpen?.(m);
        reader.send('close');
        await reader.json();
        await engine.checks?.detachedClosed?.(m);
      } finally {
        reader.kill();
      }
    });

    it(`HUSH_FS_ENGINE=${engine.name}: mountSecrets uses it, and a process that mounted, served and unmounted exits by itself`, async () => {
      const mp = await tempMountPoint();
      const child = new Child([MOUNT_CHILD, mp, `from-${engine.name}-child`], { ...process.env, HUSH_FS_ENGINE: engine.name });
      try {
        assert.equal(await child.next(), 'ready');
        assert.equal(await fsp.readFile(join(mp, 'web', 'f'), 'utf8'), `from-${engine.name}-child`);
        // Either engine serves from a thread of the child: tell them apart by the child's addon.
        const maps = await fsp.readFile(`/proc/${child.proc.pid}/maps`, 'utf8');
        assert.match(maps, engine.addon);
        child.send('unmount');
        assert.equal(await child.next(), 'unmounted');
        const exit = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5_000))]);
        assert.deepEqual(exit, { code: 0, signal: null }, `child: ${child.stderr}`);
        assert.equal((await mountInfoAt(mp)).length, 0);
      } finally {
        child.kill();
      }
    });

    it('after kill -9 of the mounting process the mount is cleaned (auto_unmount) and a new mount serves', async () => {
      const mp = await tempMountPoint();
      const child = new Child([MOUNT_CHILD, mp, 'first'], { ...process.env, HUSH_FS_ENGINE: engine.name });
      try {
        assert.equal(await child.next(), 'ready');
        assert.equal(await fsp.readFile(join(mp, 'web', 'f'), 'utf8'), 'first');
        child.proc.kill('SIGKILL');
        await child.exited;
        // libfuse's fusermount helper sees the control socket close and detaches the mount.
        await waitFor('auto_unmount of the killed mount', async () => (await mountInfoAt(mp)).length === 0);
      } finally {
        child.kill();
      }
      const secrets = new NodeSecrets();
      secrets.replaceAll([task('t1', 'b.1', 'b', [ref('s1', 1, 'f', { mode: 0o444 })])], [payload('s1', 1, 'second')]);
      const m = await mount(mp, secrets);
      try {
        assert.equal(await fsp.readFile(join(mp, 'b.1', 'f'), 'utf8'), 'second');
      } finally {
        await unmount(m);
      }
    });

    it('detaches stale (dead) FUSE mounts left at the mount point, then mounts and serves', async () => {
      const mp = await tempMountPoint();
      await fsp.mkdir(mp);
      await makeStaleMount(mp);
      await makeStaleMount(mp);
      assert.equal((await mountInfoAt(mp)).length, 2);
      assert.equal(await errorCode(fsp.stat(mp)), 'ENOTCONN');
      const secrets = new NodeSecrets();
      secrets.replaceAll([task('t1', 'c.1', 'c', [ref('s1', 1, 'f', { mode: 0o444 })])], [payload('s1', 1, 'fresh')]);
      const m = await mount(mp, secrets);
      try {
        const entries = await mountInfoAt(mp);
        assert.equal(entries.length, 1);
        assert.equal(entries[0].source, 'hush');
        assert.equal(await fsp.readFile(join(mp, 'c.1', 'f'), 'utf8'), 'fresh');
      } finally {
        await unmount(m);
      }
      assert.equal((await mountInfoAt(mp)).length, 0);
    });
  });

  describe(`${engine.name} engine: a seeded random sequence of changes`, { timeout: 300_000, skip }, () => {
    it('after every change the mount serves exactly view(), what went is ENOENT, and a handle on a reference gone fails its next read', async () => {
      const mp = await tempMountPoint();
      const secrets = new NodeSecrets();
      const changes = new RandomChanges(20261122);
      const m = await mount(mp, secrets);
      const handles: fsp.FileHandle[] = [];
      try {
        for (let step = 0; step < 300; step++) {
          const before = secrets.view();
          // Handles on up to four files, opened before the change (every file of the same task, or an alias).
          const opened = [];
          for (const f of before.files.slice(0, 4)) {
            const fh = await fsp.open(join(mp, f.path), 'r');
            handles.push(fh);
            opened.push({ fh, binding: f.binding, text: before.versions.get(f.version)!.toString() });
          }
          changes.step(secrets);
          const what = `step ${step} (${changes.what})`;
          const view = secrets.view();
          await assertServes(mp, view, what);
          const served = new Set([...view.dirs, ...view.files].map((e) => e.path));
          for (const e of [...before.dirs, ...before.files]) {
            if (!served.has(e.path)) assert.equal(await errorCode(fsp.stat(join(mp, e.path))), 'ENOENT', `${what}: ${e.path} gone`);
          }
          const alive = new Set(view.bindings);
          for (const h of opened) {
            const got = await readHandle(h.fh);
            if (alive.has(h.binding)) assert.equal(got, h.text, `${what}: a handle on a live reference reads the version it opened`);
            else assert.ok(engine.revokedReadErrors.includes(got), `${what}: a handle on a reference gone: ${got}`);
          }
          for (const fh of handles.splice(0)) await fh.close();
          engine.checks?.randomStep?.(m, view, alive, what);
        }
        await waitFor('every handle released', () => engine.openHandles(m, secrets) === 0);
        assert.equal(engine.versionsHeld(m, secrets), secrets.heldVersions, 'no version kept past its last handle');
      } finally {
        for (const fh of handles) await fh.close().catch(() => {});
        await unmount(m);
      }
    });
  });
}
