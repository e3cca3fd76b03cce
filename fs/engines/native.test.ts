// The native FUSE engine (fs/engines/native.ts, fs/native/hushfs.c): the scenarios of
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
import { mountSecretsNative, nativeEngineAvailable, type NativeEngineMount } from './native.js';
import { cleanup, errorCode, payload, ref, task, tempMountPoint, trackedMount, unmount } from '../test/fixtures.js';
import { assertServes, listInOrder, readHandle, viewScenarios } from '../test/view-scenarios.js';

// The default engine is part of the product: not built is a failure, never a skip.
const skip = false;
it('the native engine (the default) is built', () => {
  assert.equal(nativeEngineAvailable(), true, 'fs/native/build/Release/hush_fs_engine.node is missing: libfuse-dev and pkg-config must be installed at npm ci');
});

const mount = (mp: string, secrets: NodeSecrets): Promise<NativeEngineMount> => trackedMount(mountSecretsNative, mp, secrets);
after(cleanup);

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
      assert.equal(secrets.heldVersions, secrets.view().versions.size, 'no version of NodeSecrets held past its drop: this engine holds its own copies');
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
    randomStep(m, view, bindings, what) {
      assert.equal(m.stats().blobs, view.versions.size, `${what}: versions in C`);
      assert.ok(m.stats().bindings <= bindings.size, `${what}: no binding left registered in C once gone`);
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
