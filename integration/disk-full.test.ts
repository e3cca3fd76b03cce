// A manager whose disk fills up (its state dir on a small real tmpfs, filled with a filler file):
// every write is refused with one clear line, nothing of it is stored, reads go on, and writes
// work again once space is freed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { distinctive, envFor, hush, hushOk, oneErrorLine, startManager, waitUntilReady, type RunningManager } from './helpers/manager.js';
import { mountSmallDisk } from './helpers/tmpfs.js';

const DISK_FULL = "Error: the manager's disk is full";

test("a full disk: writes fail with \"the manager's disk is full\", reads go on, writes work again once space is freed", async () => {
  const disk = mountSmallDisk(32 << 20);
  const stateDir = join(disk.dir, 'm');
  const env = envFor(stateDir);
  let run: RunningManager | undefined;
  try {
    const init = await hushOk(['manager', 'init', '--listen', '127.0.0.1:0', '--autolock'], { env });
    const unlockKey = /HUSHKEY-1-[A-Za-z0-9_-]{43}/.exec(init.stdout)![0];
    run = await startManager(stateDir);
    await hushOk(['manager', 'unlock'], { env, input: unlockKey });
    await waitUntilReady(run);
    const keptId = (await hushOk(['secret', 'create', 'kept', '-'], { env, input: distinctive() })).stdout.trim();
    const spareId = (await hushOk(['secret', 'create', 'spare', '-'], { env, input: distinctive() })).stdout.trim();
    await hushOk(['service', 'create', '--name', 'web', '--secret', 'kept'], { env });

    assert.ok(disk.fill() > 0);
    const refused: Array<{ what: string; args: string[]; input?: string }> = [
      { what: 'secret create', args: ['secret', 'create', 'full-1', '-'], input: distinctive() },
      { what: 'secret update', args: ['secret', 'update', 'kept', '-'], input: distinctive() },
      { what: 'secret rm', args: ['secret', 'rm', 'spare'] },
      { what: 'service create', args: ['service', 'create', '--name', 'api', '--secret', 'kept'] },
      { what: 'service update', args: ['service', 'update', 'web', '--replicas', '3'] },
      { what: 'service rm', args: ['service', 'rm', 'web'] },
      { what: 'join-token rotation', args: ['join-token', 'worker', '--rotate'] },
      { what: 'unlock-key rotation', args: ['manager', 'unlock-key', '--rotate'] },
    ];
    for (const c of refused) {
      const r = await hush(c.args, { env, input: c.input });
      assert.notEqual(r.code, 0, `${c.what}: exit code`);
      assert.equal(r.stdout, '', `${c.what}: stdout`);
      assert.equal(oneErrorLine(r), DISK_FULL, c.what);
    }

    // Reads go on, and nothing of the refused writes was stored.
    const ls = await hushOk(['secret', 'ls', '--format', 'json'], { env });
    const secrets = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; name: string; versions: unknown[] });
    assert.deepEqual(secrets.map((s) => [s.id, s.name, s.versions.length]), [[keptId, 'kept', 1], [spareId, 'spare', 1]]);
    assert.equal((await hushOk(['service', 'ls', '-q'], { env })).stdout.trim().split('\n').length, 1);
    assert.equal((JSON.parse((await hushOk(['manager', 'status'], { env })).stdout) as { locked: boolean }).locked, false);
    assert.equal(run.proc.exitCode, null, 'the manager is still running');
    assert.equal(run.logs.filter((l) => l.msg === 'internal error').length, 0, 'a full disk is not an internal error');

    disk.free();
    const created = await hushOk(['secret', 'create', 'full-1', '-'], { env, input: distinctive() });
    assert.equal(created.stderr, '');
    await hushOk(['secret', 'update', 'kept', '-'], { env, input: distinctive() });
    await hushOk(['join-token', 'worker', '--rotate'], { env });
    const names = (await hushOk(['secret', 'ls', '--format', 'json'], { env })).stdout.trim().split('\n')
      .map((l) => (JSON.parse(l) as { name: string; versions: unknown[] }));
    assert.deepEqual(names.map((s) => [s.name, s.versions.length]), [['full-1', 1], ['kept', 2], ['spare', 1]]);
    // The unlock key was not rotated while the disk was full: the one printed at init still opens it.
    await run.stop();
    run = await startManager(stateDir);
    await hushOk(['manager', 'unlock'], { env, input: unlockKey });
    await waitUntilReady(run);
  } finally {
    await run?.stop();
    disk.remove();
  }
});
