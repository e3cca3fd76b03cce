// Real FUSE mounts in temporary directories (needs root and /dev/fuse, like CI).
// This process serves the mounts: it reads them only with async fs.promises calls or from child
// processes, never with a synchronous fs call (that would block the thread serving the requests).
// Every mount goes through trackedMount, and after(cleanup) unmounts what a failed test left.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { mountSecretsFuseNative, type FuseNativeMount } from './fuse-native.js';
import { cleanup } from '../test/fixtures.js';
import { viewScenarios } from '../test/view-scenarios.js';

// This file proves the fuse-native engine (fs/engines/fuse-native.ts, fs/ops.ts); fs/engines/native.test.ts
// the native one. Both run the scenarios of fs/test/view-scenarios.ts.

after(cleanup);

viewScenarios<FuseNativeMount>({
  name: 'fuse-native',
  mount: mountSecretsFuseNative,
  skip: false,
  // fs/ops.ts answers EACCES; EIO (its answer to a handler that threw) is tolerated here, as before.
  revokedReadErrors: ['EACCES', 'EIO'],
  // fuse-native serves NodeSecrets' own buffers, held by the engine's handles (fs/engines/fuse-native-handles.ts).
  versionsHeld: (_m, secrets) => secrets.heldVersions,
  openHandles: (m) => m.stats().handles,
  // A prebuild (prebuilds/linux-x64/node.napi.node) or, where none fits, a local build.
  addon: /\/fuse-native\/\S+\.node$/m,
  checks: {
    rotatedWhileOpen(_m, v1) {
      assert.ok(!v1.every((b) => b === 0), 'v1 (the very buffer served) kept whole for the open fd');
    },
  },
});
