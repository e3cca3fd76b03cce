// The native engine on libfuse's low-level API (HUSH_FS_ENGINE=native-ll; fs/native/hushfs_ll.c): the
// scenarios of fs/test/view-scenarios.ts, as fs/engines/native.test.ts runs them for the high-level
// variant, then what this variant adds: inode numbers that depend on the path only (what a later
// process adopting the connection needs), and file handles that keep their version or fail as before.
// Real FUSE mounts (root, /dev/fuse); this process reads them only asynchronously or from children.
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeSecrets } from '../../agent/secrets/node-secrets.js';
import { mountSecretsNativeLowLevel, type NativeEngineMount } from './native.js';
import { cleanup, errorCode, payload, ref, run, task, tempMountPoint, trackedMount, unmount, waitFor } from '../test/fixtures.js';
import { listInOrder, readHandle, viewScenarios } from '../test/view-scenarios.js';
import { nativeEngine } from '../test/native-engine.js';

const mount = (mp: string, secrets: NodeSecrets): Promise<NativeEngineMount> => trackedMount(mountSecretsNativeLowLevel, mp, secrets);
after(cleanup);

viewScenarios(nativeEngine('native-ll', mountSecretsNativeLowLevel));

/** The inode numbers of `paths` under mp, as `stat -c %i` in a child process sees them. */
async function inodes(mp: string, paths: string[]): Promise<string[]> {
  const st = await run('stat', ['-c', '%i', ...paths.map((p) => join(mp, p))]);
  assert.equal(st.code, 0, `stat: ${st.stderr}`);
  return st.stdout.trim().split('\n');
}

describe('native-ll engine: inode numbers and file handles', { timeout: 120_000 }, () => {
  const PATHS = ['.', 'web.1', 'web.1/f', 'web', 'web/f'];
  const web = (version: number) => task('t1', 'web.1', 'web', [ref('s1', version, 'f', { mode: 0o444 })]);
  const db = task('t2', 'db.1', 'db', [ref('s2', 1, 'g', { mode: 0o444 })]);

  it('an inode number depends on the path alone: the same after unrelated changes, after removal and return, and in another mount of the same view', async () => {
    const secrets = new NodeSecrets();
    secrets.replaceAll([web(1)], [payload('s1', 1, 'one')]);
    const m = await mount(await tempMountPoint(), secrets);
    const other = new NodeSecrets();
    try {
      const first = await inodes(m.mountPoint, PATHS);
      assert.equal(first[0], '1', 'the root is FUSE_ROOT_ID');
      assert.equal(new Set(first).size, PATHS.length, `distinct numbers: ${first.join(' ')}`);

      secrets.apply([db], [], [payload('s2', 1, 'two')]);
      assert.deepEqual(await inodes(m.mountPoint, PATHS), first, 'a task added beside');
      const dbInodes = await inodes(m.mountPoint, ['db.1', 'db.1/g']);
      secrets.apply([web(2)], [], [payload('s1', 2, 'rotated')], [{ id: 's1', version: 1 }]);
      assert.equal(await fsp.readFile(join(m.mountPoint, 'web.1', 'f'), 'utf8'), 'rotated');
      assert.deepEqual(await inodes(m.mountPoint, PATHS), first, 'its own secret rotated');
      secrets.apply([], ['t2'], [], [{ id: 's2', version: 1 }]);
      assert.equal(await errorCode(fsp.stat(join(m.mountPoint, 'db.1'))), 'ENOENT', 'gone at once');
      assert.deepEqual(await inodes(m.mountPoint, PATHS), first, 'a task removed beside');
      secrets.apply([db], [], [payload('s2', 1, 'two')]);
      assert.deepEqual(await inodes(m.mountPoint, ['db.1', 'db.1/g']), dbInodes, 'a path that comes back has its number again');

      // A second engine (a process given the same tree) numbers the same paths the same way.
      other.replaceAll([db, web(2)], [payload('s2', 1, 'two'), payload('s1', 2, 'rotated')]);
      const m2 = await mount(await tempMountPoint(), other);
      try {
        assert.deepEqual(await inodes(m2.mountPoint, [...PATHS, 'db.1', 'db.1/g']), [...first, ...dbInodes]);
      } finally {
        await unmount(m2);
      }
    } finally {
      await unmount(m);
    }
  });

  it('a root listing spread over several READDIRs lists every name once, in order, before and after a change', async () => {
    const secrets = new NodeSecrets();
    const many = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => task(`t${from + i}`, `task-with-a-rather-long-name-${String(from + i).padStart(4, '0')}.1`, `svc${from + i}`, [ref('s1', 1, 'f')]));
    secrets.replaceAll(many(0, 300), [payload('s1', 1, 'x')]);
    const m = await mount(await tempMountPoint(), secrets);
    try {
      assert.equal(secrets.view().rootNames.length, 600, 'task dirs and service aliases: well over one 4 KiB READDIR');
      assert.deepEqual(await listInOrder(m.mountPoint), secrets.view().rootNames);
      secrets.apply(many(300, 320), ['t5', 't150'], []);
      assert.deepEqual(await listInOrder(m.mountPoint), secrets.view().rootNames, 'after a change');
    } finally {
      await unmount(m);
    }
  });

  it('an fd opened before a rotation reads its version whole; one opened before a revocation gets EACCES; closing releases every handle', async () => {
    const secrets = new NodeSecrets();
    secrets.replaceAll([web(1), db], [payload('s1', 1, 'version one'), payload('s2', 1, 'db secret')]);
    const m = await mount(await tempMountPoint(), secrets);
    const rotated = await fsp.open(join(m.mountPoint, 'web.1', 'f'), 'r');
    const revoked = await fsp.open(join(m.mountPoint, 'db', 'g'), 'r');
    try {
      assert.equal(await readHandle(rotated), 'version one');
      assert.equal(await readHandle(revoked), 'db secret');
      assert.equal(m.stats().handles, 2);

      secrets.apply([web(2)], ['t2'], [payload('s1', 2, '2')], [{ id: 's1', version: 1 }, { id: 's2', version: 1 }]);
      assert.equal(await fsp.readFile(join(m.mountPoint, 'web.1', 'f'), 'utf8'), '2', 'a new open reads the new version');
      assert.equal(await readHandle(rotated), 'version one', 'the old fd keeps its version, past the new size');
      assert.equal(await readHandle(revoked), 'EACCES');
      assert.equal(await errorCode(fsp.stat(join(m.mountPoint, 'db', 'g'))), 'ENOENT');
      assert.equal(m.stats().liveBlobs, 3, 'v1 and the revoked version held by their fds, beside v2');
    } finally {
      await rotated.close();
      await revoked.close();
    }
    try {
      await waitFor('every handle released', () => m.stats().handles === 0);
      assert.equal(m.stats().liveBlobs, 1, 'only v2 left in C memory');
    } finally {
      await unmount(m);
    }
  });
});

