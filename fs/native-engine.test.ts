// The native FUSE engine (fs/native-engine.ts, fs/native/hushfs.c): the scenarios of
// fs/test/view-scenarios.ts (as fs/mount.test.ts runs them for fuse-native), then this engine's own,
// on real FUSE mounts (needs root and /dev/fuse).
// Although the JS thread does not serve this engine's requests, this process still reads its mounts
// only with async fs.promises calls or from child processes, never with a synchronous fs call.
// Every mount goes through trackedMount, and after(cleanup) unmounts what a failed test left.
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeSecrets, type ViewSnapshot } from '../agent/secrets/node-secrets.js';
import { mountSecretsNative, nativeEngineAvailable, type NativeEngineMount } from './native-engine.js';
import { cleanup, errorCode, payload, ref, task, tempMountPoint, trackedMount, unmount, waitFor } from './test/fixtures.js';
import { RandomChanges } from './test/random-changes.js';
import { viewScenarios } from './test/view-scenarios.js';

const skip = nativeEngineAvailable() ? false : 'the native engine is not built (libfuse-dev missing at npm ci)';

const mount = (mp: string, secrets: NodeSecrets): Promise<NativeEngineMount> => trackedMount(mountSecretsNative, mp, secrets);
after(cleanup);

/** A directory's entries in the order the file system gives them (fsp.readdir sorts them). */
async function listInOrder(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of await fsp.opendir(path)) names.push(entry.name);
  return names;
}

/** The mount serves exactly `view`: listings (in order), attributes, sizes, bytes. */
async function assertServes(mp: string, view: ViewSnapshot, what: string): Promise<void> {
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
async function readHandle(fh: fsp.FileHandle): Promise<string> {
  try {
    const buf = Buffer.alloc(1 << 16);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

// ---- the scenarios both engines pass, with this engine's counters and extra checks ----

viewScenarios<NativeEngineMount>({
  name: 'native',
  mount: mountSecretsNative,
  skip,
  revokedReadErrors: ['EACCES'],
  // The engine copies every version into C memory and keeps its own handles.
  versionsHeld: (m) => m.stats().liveBlobs,
  openHandles: (m) => m.stats().handles,
  addon: /hush_fs_engine\.node/,
  checks: {
    rotatedWhileOpen(m, _v1, before) {
      assert.equal(m.stats().blobs, before, 'v1 no longer registered');
    },
    allClosed(m, secrets) {
      assert.equal(m.stats().blobs, secrets.heldVersions);
      assert.equal(secrets.openHandles, 0, 'NodeSecrets\' own handles are not used by this engine');
    },
    detachedWhileOpen(m) {
      assert.equal(m.stats().running, true);
    },
    async detachedClosed(m) {
      await Promise.race([m.ended, new Promise((_, fail) => setTimeout(() => fail(new Error('the loop did not end')), 5_000))]);
      const st = m.stats();
      assert.deepEqual({ blobs: st.blobs, bindings: st.bindings }, { blobs: 0, bindings: 0 });
      // The kernel may tear the detached connection down before the reader's RELEASE is read: that
      // handle is then never released (its bytes were zeroed when the loop ended).
      assert.ok(st.handles <= 1 && st.liveBlobs <= st.handles, `handles ${st.handles}, blobs held ${st.liveBlobs}`);
    },
  },
});

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

describe('native engine: a seeded random sequence of changes', { timeout: 300_000, skip }, () => {
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
          assert.equal(got, alive.has(h.binding) ? h.text : 'EACCES', `${what}: a handle ${alive.has(h.binding) ? 'on a live reference reads the version it opened' : 'on a reference gone'}`);
        }
        for (const fh of handles.splice(0)) await fh.close();
        assert.equal(m.stats().blobs, view.versions.size, `${what}: versions in C`);
        assert.ok(m.stats().bindings <= alive.size, `${what}: no binding left registered in C once gone`);
      }
      await waitFor('every handle released', () => m.stats().handles === 0);
      assert.equal(m.stats().liveBlobs, secrets.heldVersions, 'no version kept in C past its last handle');
    } finally {
      for (const fh of handles) await fh.close().catch(() => {});
      await unmount(m);
    }
  });
});
