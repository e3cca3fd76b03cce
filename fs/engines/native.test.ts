// The native FUSE engine (fs/engines/native.ts, fs/native/hushfs_*.c): the scenarios of
// fs/test/view-scenarios.ts (as fs/engines/fuse-native.test.ts runs them for fuse-native), then this engine's own,
// on real FUSE mounts (needs root and /dev/fuse).
// Although the JS thread does not serve this engine's requests, this process still reads its mounts
// only with async fs.promises calls or from child processes, never with a synchronous fs call.
// Every mount goes through trackedMount, and after(cleanup) unmounts what a failed test left.
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeSecrets } from '../../agent/secrets/node-secrets.js';
import { detachUnmountIfMounted } from '../../common/native.js';
import { MOUNT_OPTIONS, type MountedSecrets } from './engine.js';
import { mountSecretsNative, nativeEngineAvailable, type NativeEngineMount } from './native.js';
import { loadAddon, type DirRow, type Engine, type FileRow, type HushFsAddon, type RootEntry } from './native-addon.js';
import { T1, cleanup, errorCode, payload, ref, task, tempMountPoint, trackedMount, unmount } from '../test/fixtures.js';
import { assertServes, listInOrder, readHandle, viewScenarios } from '../test/view-scenarios.js';
import { nativeEngine } from '../test/native-engine.js';

// The default engine is part of the product: not built is a failure, never a skip.
const skip = false;
it('the native engine (the default) is built', () => {
  assert.equal(nativeEngineAvailable(), true, 'fs/native/build/Release/hush_fs_engine.node is missing: libfuse-dev and pkg-config must be installed at npm ci');
});

const mount = (mp: string, secrets: NodeSecrets): Promise<NativeEngineMount> => trackedMount(mountSecretsNative, mp, secrets);
after(cleanup);

// ---- the scenarios every engine passes, with this engine's counters and extra checks (fs/test/native-engine.ts) ----

viewScenarios(nativeEngine('native', mountSecretsNative));

// ---- this engine only ----

describe('native engine: a change it cannot apply', { timeout: 120_000, skip }, () => {
  it('fails closed (serves nothing, revokes every handle), and the next change sends the whole view again', async () => {
    const mp = await tempMountPoint();
    const secrets = new NodeSecrets();
    const good = task('t1', 'a.1', 'a', [ref('s1', 1, 'f', { mode: 0o444 })]);
    secrets.replaceAll([good], [payload('s1', 1, 'good')]);
    const m = await mount(mp, secrets);
    const fh = await fsp.open(join(mp, 'a.1', 'f'), 'r');
    try {
      assert.equal(await readHandle(fh), 'good');
      // A version id the C side refuses (it holds a NUL): the update throws inside the engine's listener.
      const bad = task('t2', 'b.1', 'b', [ref('bad\0id', 1, 'g')]);
      secrets.apply([bad], [], [payload('bad\0id', 1, 'refused')]);
      assert.deepEqual(await listInOrder(mp), [], 'serves nothing');
      assert.equal(await errorCode(fsp.stat(join(mp, 'a.1', 'f'))), 'ENOENT');
      assert.equal(await readHandle(fh), 'EACCES', 'every handle revoked');
      assert.equal(m.stats().blobs, 0, 'every version dropped from C memory');

      secrets.apply([], ['t2'], [], [{ id: 'bad\0id', version: 1 }]);
      await assertServes(mp, secrets.view(), 'after the next change');
      assert.equal(await fsp.readFile(join(mp, 'a', 'f'), 'utf8'), 'good');
      assert.equal(await readHandle(fh), 'EACCES', 'a handle from before stays revoked');
    } finally {
      await fh.close();
      await unmount(m);
    }
  });
});

// ---- the addon itself, fed directly ----

interface BareMount extends MountedSecrets {
  engine: Engine;
}

/** An engine of the addon's own, mounted at `mp` with the product's options, nothing else. */
async function mountBare(hushfs: HushFsAddon, mp: string): Promise<BareMount> {
  await fsp.mkdir(mp, { recursive: true });
  const engine = hushfs.create(T1);
  let onInit: () => void = () => {};
  let onExit: () => void = () => {};
  const initialised = new Promise<void>((ok) => (onInit = ok));
  const ended = new Promise<void>((ok) => (onExit = ok));
  hushfs.mount(engine, mp, MOUNT_OPTIONS.join(','), (event) => (event === 'init' ? onInit() : onExit()));
  await Promise.race([initialised, ended.then(() => Promise.reject(new Error('the FUSE loop ended before INIT')))]);
  let unmounted: Promise<void> | undefined;
  return {
    mountPoint: mp,
    engine,
    memoryLock: () => { const failures = hushfs.stats(engine).mlockFailures; return { state: failures ? 'failing' : 'locked', failures }; },
    unmount: () =>
      (unmounted ??= (async () => {
        detachUnmountIfMounted(mp);
        // Nothing is left open: the kernel drops the connection at once, and the loop ends.
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([ended, new Promise((_, fail) => (timer = setTimeout(() => fail(new Error('the FUSE loop did not end')), 10_000)))]);
        } finally {
          clearTimeout(timer);
          hushfs.unref(engine);
        }
      })()),
  };
}

describe('native engine addon: a name that is not one path component', { timeout: 120_000, skip }, () => {
  const BAD = ['', '.', '..', 'x/y', 'n'.repeat(256), 'nul\0x'];
  const dir = (path: string, names: string[]): DirRow => [path, 0, 0, 0o555, T1, names];
  const file = (path: string, binding = 'b2'): FileRow => [path, 0, 0, 0o444, T1, binding, 's1@1'];
  /** Changes that put `name` in one place each, and that would also remove /a and revoke b1 if applied. */
  const changes = (hushfs: HushFsAddon, engine: Engine, name: string): Array<[string, () => number]> => {
    const update = (rootAdded: RootEntry[], dirs: DirRow[], files: FileRow[], dirPaths = ['/a']) => () =>
      hushfs.updateTree(engine, [1], rootAdded, dirPaths, dirs, files, ['b1']);
    return [
      ['updateTree: a root name', update([[2, name]], [], [])],
      ['updateTree: a dir path', update([[2, 'b']], [dir('/' + name, ['f'])], [])],
      ['updateTree: a listed name', update([[2, 'b']], [dir('/b', ['f', name])], [file('/b/f')])],
      ['updateTree: a file name', update([[2, 'b']], [dir('/b', ['f'])], [file('/b/' + name)])],
      ["updateTree: a file path's directory", update([[2, 'b']], [dir('/b', ['f'])], [file('/' + name + '/f')])],
      ['updateTree: a directory to remove', update([[2, 'b']], [dir('/b', ['f'])], [file('/b/f')], ['/a', '/' + name])],
      ['setTree: a root name', () => hushfs.setTree(engine, [[1, name]], [], [], [])],
      ['setTree: a listed name', () => hushfs.setTree(engine, [[1, 'a']], [dir('/a', [name])], [], [])],
      ['setTree: a file name', () => hushfs.setTree(engine, [[1, 'a']], [dir('/a', ['f'])], [file('/a/' + name, 'b1')], [])],
    ];
  };

  it('refuses the whole change with an error naming the rule, and the mount serves what it did before', async () => {
    const hushfs = loadAddon();
    const mp = await tempMountPoint();
    const m = await trackedMount((p) => mountBare(hushfs, p), mp, new NodeSecrets());
    const { engine } = m;
    hushfs.putBlob(engine, 's1@1', Buffer.from('good'));
    assert.equal(hushfs.setTree(engine, [[1, 'a']], [dir('/a', ['f'])], [file('/a/f', 'b1')], ['b1']), 0);
    const fh = await fsp.open(join(mp, 'a', 'f'), 'r');
    try {
      assert.equal(await readHandle(fh), 'good');
      const before = hushfs.stats(engine);
      for (const bad of BAD) {
        const shown = JSON.stringify(bad.length > 20 ? bad.slice(0, 8) + '…' : bad);
        for (const [what, change] of changes(hushfs, engine, bad)) {
          const fn = what.split(':')[0];
          assert.throws(change, new RegExp(`^Error: hushfs\\.${fn}: .* is not .*one path component \\(not empty, '\\.' or '\\.\\.'; no '/' or NUL; at most 255 bytes\\)$`), `${what} ${shown}`);
        }
      }
      assert.deepEqual(hushfs.stats(engine), before, 'nothing registered, revoked or dropped');
      assert.deepEqual(await listInOrder(mp), ['a']);
      assert.deepEqual(await listInOrder(join(mp, 'a')), ['f']);
      assert.equal(await fsp.readFile(join(mp, 'a', 'f'), 'utf8'), 'good');
      assert.equal(await readHandle(fh), 'good', 'the handle is not revoked');
      // A READ at an offset and past the end (answered by the engine's own channel).
      const two = Buffer.alloc(2);
      assert.equal((await fh.read(two, 0, 2, 1)).bytesRead, 2);
      assert.equal(two.toString(), 'oo');
      assert.equal((await fh.read(two, 0, 2, 4)).bytesRead, 0);

      // The same change with good names is applied whole.
      const [, good] = changes(hushfs, engine, 'f')[3];
      assert.equal(good(), 0);
      assert.deepEqual(await listInOrder(mp), ['b']);
      assert.equal(await fsp.readFile(join(mp, 'b', 'f'), 'utf8'), 'good');
      assert.equal(await readHandle(fh), 'EACCES', 'b1 revoked');
    } finally {
      await fh.close();
      await unmount(m);
    }
  });
});
