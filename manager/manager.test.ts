import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { initCluster } from './cluster/init.js';
import { Manager } from './manager.js';
import { createLogger } from '../common/log.js';
import { parseUnlockKey } from './crypto/keyring.js';

const zeroed = (b: Buffer) => b.every((byte) => byte === 0);
const quiet = () => createLogger('test', new Writable({ write(_c, _e, done) { done(); } }));

test('closing the manager zeroes its data key and unlock key; a rotation zeroes the replaced unlock key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hush-manager-'));
  try {
    const stateDir = join(dir, 'm');
    const { unlockKey } = await initCluster({ stateDir, listenAddr: '127.0.0.1:0', autolock: true, certExpiryMs: 90 * 86_400_000 });
    const manager = await Manager.open(stateDir, quiet());
    assert.equal(manager.locked, true);
    await manager.unlock(parseUnlockKey(unlockKey!));
    const { dek } = manager.unlocked();
    const before = manager.unlocked().unlockKey!;
    assert.equal(zeroed(dek), false);
    const rotated = manager.rotateUnlockKey();
    assert.ok(zeroed(before), 'the replaced unlock key no longer opens anything and is zeroed');
    await manager.close();
    assert.ok(zeroed(dek), 'the data key is zeroed at close');
    assert.ok(zeroed(rotated), 'the current unlock key is zeroed at close');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
