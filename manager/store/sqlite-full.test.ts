// The SQLite store on a real full disk (a small tmpfs filled up): writes fail with DiskFullError,
// nothing of them is stored, reads and watches go on, and writes succeed again once space is freed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from './sqlite.js';
import { DiskFullError, type Change } from './store.js';
import { mountSmallDisk } from '../../integration/helpers/tmpfs.js';
import { waitUntil } from '../../common/testing/wait.js';

const put = (key: string, value: Buffer) => ({ type: 'put' as const, key, value });

test('a full disk fails txns with DiskFullError, keeps reads and watches going, and writes resume once space is freed', async (t) => {
  const disk = mountSmallDisk(8 << 20);
  const file = join(disk.dir, 'store.db');
  let store = openSqliteStore(file);
  t.after(async () => {
    await store.close();
    disk.remove();
  });

  const blob = Buffer.alloc(100_000, 1);
  await store.txn([], [put('a', Buffer.from('one')), { type: 'putBlob', id: 'b1', data: blob }]);
  const before = await store.revision();
  const seen: Change[] = [];
  const progress: number[] = [];
  store.watch(before, (cs) => seen.push(...cs), (e) => assert.fail(e), (r) => progress.push(r));

  assert.ok(disk.fill() > 0, 'the filler took the space left');
  const big = Buffer.alloc(256 * 1024, 2);
  // One txn alone, then several in one group commit (one of them blob-only): each is refused.
  const refusals = [
    store.txn([], [put('b', big)]),
    store.txn([{ key: 'c', modRev: 0 }], [put('c', big), { type: 'putBlob', id: 'b2', data: big }]),
    store.txn([], [{ type: 'putBlob', id: 'b3', data: big }]),
    store.txn([], [put('d', Buffer.from('small')), { type: 'delete', key: 'a' }]),
  ];
  for (const [i, r] of refusals.entries()) {
    await assert.rejects(r, (e: unknown) => {
      assert.ok(e instanceof DiskFullError, `txn ${i}: ${String(e)}`);
      assert.equal((e as Error).message, "the manager's disk is full");
      return true;
    });
  }

  // Nothing of them is stored; reads go on.
  assert.equal(await store.revision(), before);
  assert.equal((await store.get('a'))?.value.toString(), 'one');
  for (const key of ['b', 'c', 'd']) assert.equal(await store.get(key), undefined, key);
  for (const id of ['b2', 'b3']) assert.equal(await store.getBlob(id), undefined, id);
  assert.deepEqual((await store.getBlob('b1'))?.equals(blob), true);
  assert.deepEqual((await store.range('')).kvs.map((kv) => kv.key), ['a']);
  assert.equal(seen.length, 0, 'a refused txn is not in the change feed');
  assert.equal(progress.length, 0);

  // Still full: refused again, and not retried forever in the background either.
  await assert.rejects(store.txn([], [put('b', big)]), DiskFullError);

  disk.free();
  const r = await store.txn([{ key: 'b', modRev: 0 }], [put('b', big)]);
  assert.deepEqual(r, { ok: true, revision: before + 1 });
  await waitUntil('the change in the feed', () => seen.length > 0, 5000, { intervalMs: 1 });
  assert.deepEqual(seen.map((c) => [c.revision, c.key]), [[before + 1, 'b']]);

  // And all of it durable: a reopened store has exactly that.
  await store.close();
  store = openSqliteStore(file);
  assert.equal(await store.revision(), before + 1);
  assert.deepEqual((await store.range('')).kvs.map((kv) => [kv.key, kv.modRev]), [['a', 1], ['b', before + 1]]);
  assert.equal(await store.getBlob('b2'), undefined);
});
