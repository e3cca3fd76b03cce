// Real FUSE mounts in temporary directories (needs root and /dev/fuse, like CI).
// This process serves the mounts: it reads them only with async fs.promises calls or from child
// processes, never with a synchronous fs call (that would block the thread serving the requests).
// Every mount goes through trackedMount, and after(cleanup) unmounts what a failed test left.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NodeSecrets } from '../agent/secrets/node-secrets.js';
import { mountInfoAt, mountSecrets, type MountedSecrets } from './mount.js';
import { Child, cleanup, errorCode, payload, ref, task, tempMountPoint, trackedMount, unmount } from './test/fixtures.js';
import { READER, viewScenarios } from './test/view-scenarios.js';

// This file proves the fuse-native engine (fs/ops.ts); fs/native-engine.test.ts the native one.
// Both run the scenarios of fs/test/view-scenarios.ts.
process.env.HUSH_FS_ENGINE = 'fuse-native';

const mount = (mp: string, secrets: NodeSecrets): Promise<MountedSecrets> => trackedMount(mountSecrets, mp, secrets);
after(cleanup);

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

viewScenarios({
  name: 'fuse-native',
  mount: mountSecrets,
  skip: false,
  // The kernel may answer EIO for a read fuse-native's handler refused.
  revokedReadErrors: ['EACCES', 'EIO'],
  // fuse-native serves from NodeSecrets' own handles and versions.
  versionsHeld: (_m, secrets) => secrets.heldVersions,
  openHandles: (_m, secrets) => secrets.openHandles,
  addon: /fuse-native\/prebuilds\/[^/]+\/node\.napi\.node/,
  checks: {
    rotatedWhileOpen(_m, v1) {
      assert.ok(!v1.every((b) => b === 0), 'v1 (the very buffer served) kept whole for the open fd');
    },
  },
});

// ---- this engine only ----

describe('fuse-native engine: mount points and unmount', { timeout: 120_000 }, () => {
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

  it('unmount detaches at once even while a reader holds a file open', async () => {
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
      secrets.wipe();
      reader.send('read');
      assert.ok((await reader.json()).error, 'the detached connection still refuses revoked reads');
      reader.send('close');
      await reader.json();
    } finally {
      reader.kill();
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
