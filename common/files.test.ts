import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from './files.js';
import { DiskFullError } from './disk-full.js';
import { mountSmallDisk } from '../integration/helpers/tmpfs.js';

test('writeFileDurable on a full disk: DiskFullError, the old file intact, no temp file left', (t) => {
  const disk = mountSmallDisk(1 << 20);
  t.after(() => disk.remove());
  const path = join(disk.dir, 'keyring.json');
  writeFileSync(path, 'old\n');
  disk.fill();
  assert.throws(() => writeFileDurable(path, Buffer.alloc(64 * 1024, 1)), (e: unknown) => {
    assert.ok(e instanceof DiskFullError, String(e));
    assert.equal((e as Error).message, "the manager's disk is full");
    return true;
  });
  assert.equal(readFileSync(path, 'utf8'), 'old\n');
  assert.deepEqual(readdirSync(disk.dir).sort(), ['.filler', 'keyring.json']);
  disk.free();
  writeFileDurable(path, 'new\n');
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
});
