// The engine registry (fs/mount.ts). Each engine's own file runs the view scenarios; the lifecycle
// scenarios (fs/test/view-scenarios.ts) check that HUSH_FS_ENGINE=<name> makes mountSecrets use it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeSecrets } from '../agent/secrets/node-secrets.js';
import { mountSecrets } from './mount.js';

test('HUSH_FS_ENGINE other than native, native-ll or fuse-native is refused before the mount point is touched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-engine-'));
  const saved = process.env.HUSH_FS_ENGINE;
  try {
    for (const name of ['fuse', 'constructor']) {
      process.env.HUSH_FS_ENGINE = name;
      await assert.rejects(mountSecrets(join(dir, 'secrets'), new NodeSecrets()), { message: `hush: HUSH_FS_ENGINE must be 'native', 'native-ll' or 'fuse-native', not '${name}'` });
    }
    assert.equal(existsSync(join(dir, 'secrets')), false);
  } finally {
    if (saved === undefined) delete process.env.HUSH_FS_ENGINE;
    else process.env.HUSH_FS_ENGINE = saved;
    await rm(dir, { recursive: true });
  }
});
