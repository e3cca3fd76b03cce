// The view-scenario settings of the native engine (fs/test/view-scenarios.ts's FsEngine), shared by its
// two variants: fs/engines/native.test.ts (high-level libfuse) and fs/engines/native-ll.test.ts (low-level).
import assert from 'node:assert/strict';
import type { NodeSecrets } from '../../agent/secrets/node-secrets.js';
import type { NativeEngineMount } from '../engines/native.js';
import type { FsEngine } from './view-scenarios.js';

export function nativeEngine(name: 'native' | 'native-ll', mount: (mp: string, secrets: NodeSecrets) => Promise<NativeEngineMount>): FsEngine<NativeEngineMount> {
  return {
    name,
    mount,
    // The default engine is part of the product: not built is a failure, never a skip.
    skip: false,
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
  };
}
