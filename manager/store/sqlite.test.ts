import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import { CompactedError, type Change } from './store.js';

// A temp dir per test, removed (and its stores closed) after the test, pass or fail.
function tmp(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-store-'));
  const file = path.join(dir, 'store.db');
  const opened: SqliteStore[] = [];
  t.after(async () => {
    try {
      for (const s of opened) await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  const open = (opts?: SqliteStoreOptions) => {
    const s = openSqliteStore(file, opts);
    opened.push(s);
    return s;
  };
  return { dir, file, open };
}

const b = (s: string) => Buffer.from(s);
const put = (key: string, value: string) => ({ type: 'put' as const, key, value: b(value) });
const del = (key: string) => ({ type: 'delete' as const, key });
const str = (c: Change) => `${c.revision}:${c.key}=${c.value === null ? '<deleted>' : c.value.toString()}`;

// Collects watch deliveries; wait(n) resolves once n changes have arrived.
function collector() {
  const calls: Change[][] = [];
  const all: Change[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  const onChanges = (cs: Change[]) => {
    calls.push(cs);
    all.push(...cs);
    if (waiter && all.length >= waiter.n) waiter.resolve();
  };
  const wait = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (all.length >= n) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out: ${all.length}/${n} changes`)), 5000);
      waiter = { n, resolve: () => (clearTimeout(timer), resolve()) };
    });
  return { calls, all, onChanges, wait };
}

const tick = () => new Promise((r) => setImmediate(r));

test('put, get, range, delete', async (t) => {
  const store = tmp(t).open();
  assert.equal(await store.revision(), 0);
  assert.equal(await store.get('a'), undefined);

  let r = await store.txn([], [put('app/b', 'B'), put('app/a', 'A'), put('other', 'O')]);
  assert.deepEqual(r, { ok: true, revision: 1 });
  assert.deepEqual(await store.get('app/a'), { key: 'app/a', value: b('A'), createRev: 1, modRev: 1 });

  r = await store.txn([], [put('app/a', 'A2'), put('app/c', 'C')]);
  assert.deepEqual(r, { ok: true, revision: 2 });
  assert.deepEqual(await store.get('app/a'), { key: 'app/a', value: b('A2'), createRev: 1, modRev: 2 });

  const { kvs, revision } = await store.range('app/');
  assert.equal(revision, 2);
  assert.deepEqual(
    kvs.map((kv) => [kv.key, kv.value.toString(), kv.createRev, kv.modRev]),
    [['app/a', 'A2', 1, 2], ['app/b', 'B', 1, 1], ['app/c', 'C', 2, 2]],
  );
  assert.equal((await store.range('')).kvs.length, 4);
  assert.equal((await store.range('nothing')).kvs.length, 0);

  r = await store.txn([], [del('app/b')]);
  assert.deepEqual(r, { ok: true, revision: 3 });
  assert.equal(await store.get('app/b'), undefined);
  assert.deepEqual((await store.range('app/')).kvs.map((kv) => kv.key), ['app/a', 'app/c']);

  // Recreated after delete: createRev starts again. Empty values are values.
  await store.txn([], [put('app/b', '')]);
  assert.deepEqual(await store.get('app/b'), { key: 'app/b', value: Buffer.alloc(0), createRev: 4, modRev: 4 });
});

test('range orders by UTF-8 bytes and handles prefixes ending in high code points', async (t) => {
  const store = tmp(t).open();
  const keys = ['a', 'a\u{10FFFF}', 'a\u{10FFFF}x', 'a\u{10FFFF}\u{10FFFF}', 'b', 'a\uFFFF', 'a\u{10000}', 'a\uD7FF', 'a\uE000', 'a/'];
  await store.txn([], keys.map((k) => put(k, k)));
  const sorted = [...keys].sort((x, y) => Buffer.compare(b(x), b(y)));
  assert.deepEqual((await store.range('')).kvs.map((kv) => kv.key), sorted);
  assert.deepEqual((await store.range('a')).kvs.map((kv) => kv.key), sorted.filter((k) => k.startsWith('a')));
  assert.deepEqual((await store.range('a\u{10FFFF}')).kvs.map((kv) => kv.key), ['a\u{10FFFF}', 'a\u{10FFFF}x', 'a\u{10FFFF}\u{10FFFF}']);
  assert.deepEqual((await store.range('a\uD7FF')).kvs.map((kv) => kv.key), ['a\uD7FF']);
  assert.deepEqual((await store.range('\u{10FFFF}')).kvs, []);
});

test('invalid keys are rejected with a clear error', async (t) => {
  const store = tmp(t).open();
  await assert.rejects(store.txn([], [put('', 'x')]), /key must not be empty/);
  await assert.rejects(store.txn([], [put('k'.repeat(1025), 'x')]), /1025 bytes long; the maximum is 1024/);
  await assert.rejects(store.txn([], [put('é'.repeat(513), 'x')]), /1026 bytes long/);
  await assert.rejects(store.get(''), /key must not be empty/);
  await assert.rejects(store.get('\uD800x'), /lone surrogate/);
  await assert.rejects(store.txn([{ key: '', modRev: 0 }], []), /key must not be empty/);
  await assert.rejects(store.txn([], [{ type: 'putBlob', id: '', data: b('x') }]), /blob id must not be empty/);
  await assert.rejects(store.txn([], [put('a', '1'), del('a')]), /more than one op on key a/);
  await assert.rejects(store.txn([{ key: 'a', modRev: -1 }], []), /modRev must be a non-negative integer/);
  assert.deepEqual(await store.txn([], [put('k'.repeat(1024), 'x'), put('é'.repeat(512), 'y')]), { ok: true, revision: 1 });
  assert.equal(await store.revision(), 1);
});

test('revisions increase by exactly one per committed txn with ops', async (t) => {
  const store = tmp(t).open();
  const revs: number[] = [];
  for (let i = 0; i < 5; i++) revs.push((await store.txn([], [put(`k${i}`, 'v'), put(`j${i}`, 'v')])).revision);
  assert.deepEqual(revs, [1, 2, 3, 4, 5]);
  // Blob-only txns and deletes of absent keys count; txns without ops and failed compares do not.
  assert.deepEqual(await store.txn([], [{ type: 'putBlob', id: 'b1', data: b('x') }]), { ok: true, revision: 6 });
  assert.deepEqual(await store.txn([], [del('absent')]), { ok: true, revision: 7 });
  assert.deepEqual(await store.txn([], []), { ok: true, revision: 7 });
  assert.deepEqual(await store.txn([{ key: 'k0', modRev: 0 }], [put('x', 'y')]), { ok: false, revision: 7 });
  assert.equal(await store.revision(), 7);

  // Concurrent txns (one group commit) still get one revision each, in submission order.
  const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => store.txn([], [put(`c${i}`, 'v')])));
  assert.deepEqual(rs.map((r) => r.revision), Array.from({ length: 50 }, (_, i) => 8 + i));
  assert.equal((await store.get('c49'))?.modRev, 57);
});

test('compare-and-swap', async (t) => {
  const store = tmp(t).open();
  // create-if-absent
  assert.deepEqual(await store.txn([{ key: 'k', modRev: 0 }], [put('k', 'v1')]), { ok: true, revision: 1 });
  assert.deepEqual(await store.txn([{ key: 'k', modRev: 0 }], [put('k', 'v2')]), { ok: false, revision: 1 });
  assert.equal((await store.get('k'))?.value.toString(), 'v1');

  // update at the current modRev
  assert.deepEqual(await store.txn([{ key: 'k', modRev: 1 }], [put('k', 'v2')]), { ok: true, revision: 2 });
  // stale modRev fails and writes nothing (none of the ops)
  assert.deepEqual(await store.txn([{ key: 'k', modRev: 1 }], [put('k', 'v3'), put('other', 'x'), del('gone')]), { ok: false, revision: 2 });
  assert.deepEqual(await store.get('k'), { key: 'k', value: b('v2'), createRev: 1, modRev: 2 });
  assert.equal(await store.get('other'), undefined);
  // a non-zero modRev on an absent key fails
  assert.deepEqual(await store.txn([{ key: 'absent', modRev: 2 }], [put('absent', 'x')]), { ok: false, revision: 2 });
  // all compares must hold
  assert.deepEqual(await store.txn([{ key: 'k', modRev: 2 }, { key: 'n', modRev: 1 }], [put('k', 'v3')]), { ok: false, revision: 2 });
  assert.deepEqual(await store.txn([{ key: 'k', modRev: 2 }, { key: 'n', modRev: 0 }], [put('k', 'v3')]), { ok: true, revision: 3 });

  // Within one group commit, later txns see earlier ones: exactly one create-if-absent wins.
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => store.txn([{ key: 'race', modRev: 0 }], [put('race', `w${i}`)])));
  assert.deepEqual(rs.map((r) => r.ok), [true, ...Array(9).fill(false)]);
  assert.ok(rs.every((r) => r.revision === 4));
  assert.equal((await store.get('race'))?.value.toString(), 'w0');
});

test('atomicity: a failed txn writes none of its ops, blobs included', async (t) => {
  const store = tmp(t).open();
  await store.txn([], [put('k', 'v'), { type: 'putBlob', id: 'existing', data: b('old') }]);

  // failed compare
  const r = await store.txn([{ key: 'k', modRev: 0 }], [
    put('new', 'x'),
    del('k'),
    { type: 'putBlob', id: 'blob1', data: b('data') },
    { type: 'deleteBlob', id: 'existing' },
  ]);
  assert.deepEqual(r, { ok: false, revision: 1 });
  assert.equal(await store.get('new'), undefined);
  assert.ok(await store.get('k'));
  assert.equal(await store.getBlob('blob1'), undefined);
  assert.deepEqual(await store.getBlob('existing'), b('old'));

  // putBlob of an existing id rejects the txn, which writes nothing, without affecting its neighbours
  // in the same group commit.
  const [a, bad, c] = await Promise.allSettled([
    store.txn([], [put('a', '1')]),
    store.txn([], [put('new', 'x'), { type: 'putBlob', id: 'fresh', data: b('f') }, { type: 'putBlob', id: 'existing', data: b('new') }]),
    store.txn([], [put('c', '3')]),
  ]);
  assert.deepEqual(a, { status: 'fulfilled', value: { ok: true, revision: 2 } });
  assert.equal(bad.status, 'rejected');
  assert.match(String((bad as PromiseRejectedResult).reason), /blob existing already exists/);
  assert.deepEqual(c, { status: 'fulfilled', value: { ok: true, revision: 3 } });
  assert.equal(await store.get('new'), undefined);
  assert.equal(await store.getBlob('fresh'), undefined);
  assert.deepEqual(await store.getBlob('existing'), b('old'));
  assert.equal(await store.revision(), 3);
});

test('blobs roundtrip and delete, outside the key space', async (t) => {
  const store = tmp(t).open();
  const big = Buffer.alloc(512 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const w = collector();
  store.watch(0, w.onChanges);
  await store.txn([], [
    { type: 'putBlob', id: 'big', data: big },
    { type: 'putBlob', id: 'empty', data: Buffer.alloc(0) },
    put('meta', 'm'),
  ]);
  assert.deepEqual(await store.getBlob('big'), big);
  assert.deepEqual(await store.getBlob('empty'), Buffer.alloc(0));
  assert.equal(await store.getBlob('missing'), undefined);
  assert.deepEqual((await store.range('')).kvs.map((kv) => kv.key), ['meta']);

  assert.deepEqual(await store.txn([], [{ type: 'deleteBlob', id: 'big' }, { type: 'deleteBlob', id: 'missing' }]), { ok: true, revision: 2 });
  assert.equal(await store.getBlob('big'), undefined);
  // After deletion the id can be used again.
  await store.txn([], [{ type: 'putBlob', id: 'big', data: b('again') }]);
  assert.deepEqual(await store.getBlob('big'), b('again'));
  await tick();
  assert.deepEqual(w.all.map(str), ['1:meta=m']);
});

test('watch from 0 replays everything in order, then live changes', async (t) => {
  const store = tmp(t).open();
  await store.txn([], [put('a', '1'), put('b', '1')]);
  await store.txn([], [put('a', '2')]);
  await store.txn([], [del('b')]);
  await store.txn([], [{ type: 'putBlob', id: 'x', data: b('x') }]); // rev 4: no key change

  const w = collector();
  let returned = false;
  store.watch(0, (cs) => {
    assert.ok(returned, 'first delivery must come after watch() returns');
    w.onChanges(cs);
  });
  returned = true;
  // Committed while the replay is still undelivered: must follow it, once.
  const live = store.txn([], [put('c', '1'), del('a')]);
  await w.wait(6);
  assert.equal((await live).revision, 5);
  await store.txn([], [put('d', '1')]);
  await w.wait(7);
  await tick();
  assert.deepEqual(w.all.map(str), ['1:a=1', '1:b=1', '2:a=2', '3:b=<deleted>', '5:c=1', '5:a=<deleted>', '6:d=1']);
  // A revision is never split across calls, and calls are never empty.
  for (const cs of w.calls) assert.ok(cs.length > 0);
  const revCalls = new Map<number, Set<number>>();
  w.calls.forEach((cs, i) => cs.forEach((c) => revCalls.set(c.revision, (revCalls.get(c.revision) ?? new Set()).add(i))));
  for (const calls of revCalls.values()) assert.equal(calls.size, 1);
});

test('watch from a mid revision, from the current one, and cancel', async (t) => {
  const store = tmp(t).open();
  for (let i = 1; i <= 5; i++) await store.txn([], [put('k', String(i))]);

  const mid = collector();
  store.watch(3, mid.onChanges);
  const cur = collector();
  const cancelCur = store.watch(5, cur.onChanges);
  const future = collector();
  store.watch(7, future.onChanges);
  const cancelled = collector();
  const cancel = store.watch(0, cancelled.onChanges);
  cancel();
  cancel();

  await mid.wait(2);
  assert.deepEqual(mid.all.map(str), ['4:k=4', '5:k=5']);
  for (let i = 6; i <= 8; i++) await store.txn([], [put('k', String(i))]);
  await mid.wait(5);
  await cur.wait(3);
  await future.wait(1);
  assert.deepEqual(mid.all.map(str), ['4:k=4', '5:k=5', '6:k=6', '7:k=7', '8:k=8']);
  assert.deepEqual(cur.all.map(str), ['6:k=6', '7:k=7', '8:k=8']);
  assert.deepEqual(future.all.map(str), ['8:k=8']);
  assert.deepEqual(cancelled.all, []);

  cancelCur();
  await store.txn([], [put('k', '9')]);
  await mid.wait(6);
  assert.equal(cur.all.length, 3);
});

test('CompactedError when the history has been pruned', async (t) => {
  const store = tmp(t).open({ historyLimit: 3 });
  for (let i = 1; i <= 10; i++) await store.txn([], [put('k', String(i))]);

  // Without onError, watch() throws.
  assert.throws(() => store.watch(0, () => assert.fail('no changes expected')), (e: unknown) => {
    assert.ok(e instanceof CompactedError);
    assert.equal(e.requested, 0);
    assert.ok(e.compactRevision >= 1 && e.compactRevision <= 10 - 3);
    return true;
  });
  // With onError, it is delivered asynchronously.
  const err = await new Promise<Error>((resolve) => {
    let returned = false;
    store.watch(1, () => assert.fail('no changes expected'), (e) => {
      assert.ok(returned);
      resolve(e);
    });
    returned = true;
  });
  assert.ok(err instanceof CompactedError);

  // The last historyLimit revisions remain watchable.
  const w = collector();
  store.watch(7, w.onChanges);
  await w.wait(3);
  assert.deepEqual(w.all.map(str), ['8:k=8', '9:k=9', '10:k=10']);
});

test('an exception in onChanges ends the watch and goes to onError', async (t) => {
  const store = tmp(t).open();
  let calls = 0;
  const err = new Promise<Error>((resolve) => {
    store.watch(0, () => {
      calls++;
      throw new Error('boom');
    }, resolve);
  });
  await store.txn([], [put('a', '1')]);
  assert.equal((await err).message, 'boom');
  await store.txn([], [put('a', '2')]);
  await tick();
  assert.equal(calls, 1);
});

test('reopen after close keeps data, blobs, revision and history', async (t) => {
  const { open } = tmp(t);
  let store = open({ historyLimit: 100 });
  await store.txn([], [put('a', '1'), { type: 'putBlob', id: 'b', data: b('blob') }]);
  await store.txn([], [put('a', '2'), put('c', '3')]);
  // close() commits txns already submitted.
  const pending = store.txn([], [del('c')]);
  await store.close();
  assert.deepEqual(await pending, { ok: true, revision: 3 });
  await assert.rejects(store.get('a'), /store is closed/);
  await assert.rejects(store.txn([], [put('x', 'y')]), /store is closed/);
  await store.close(); // idempotent

  store = open({ historyLimit: 100 });
  assert.equal(await store.revision(), 3);
  assert.deepEqual(await store.get('a'), { key: 'a', value: b('2'), createRev: 1, modRev: 2 });
  assert.equal(await store.get('c'), undefined);
  assert.deepEqual(await store.getBlob('b'), b('blob'));
  const w = collector();
  store.watch(1, w.onChanges);
  await w.wait(3);
  assert.deepEqual(w.all.map(str), ['2:a=2', '2:c=3', '3:c=<deleted>']);
  assert.deepEqual(await store.txn([], [put('d', '4')]), { ok: true, revision: 4 });
});

test('files are created with mode 0600 and the store is locked against a second opener', async (t) => {
  const { file, open } = tmp(t);
  const old = process.umask(0o022);
  let store: SqliteStore;
  try {
    store = open();
  } finally {
    process.umask(old);
  }
  await store.txn([], [put('a', '1')]);
  for (const f of [file, file + '-wal']) {
    if (fs.existsSync(f)) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  }
  assert.ok(fs.existsSync(file + '-wal'));
  assert.throws(() => openSqliteStore(file), /is locked: another process has it open/);
  await store.close();

  // A pre-existing file with a wider mode is narrowed.
  fs.chmodSync(file, 0o644);
  open();
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

test('refuses files that are not hush stores or have an unknown schema version', async (t) => {
  const { dir } = tmp(t);
  const foreign = path.join(dir, 'foreign.db');
  const db = new Database(foreign);
  db.exec('CREATE TABLE x (a)');
  db.close();
  assert.throws(() => openSqliteStore(foreign), /not a hush store/);

  const future = path.join(dir, 'future.db');
  await openSqliteStore(future).close();
  const db2 = new Database(future);
  db2.prepare(`UPDATE meta SET value = 99 WHERE name = 'schema_version'`).run();
  db2.close();
  assert.throws(() => openSqliteStore(future), /unsupported store schema version 99/);
});

test('acknowledged txns survive SIGKILL', async (t) => {
  const { file, open } = tmp(t);
  const child = spawn(process.execPath, [fileURLToPath(new URL('./testdata/kill-child.js', import.meta.url)), file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig ?? code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out === '') setTimeout(() => (child.kill('SIGKILL'), resolve()), 300);
      out += d;
    });
    child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
  });
  assert.equal(await exited, 'SIGKILL', err);

  const acked = out.split('\n').slice(0, -1); // a trailing partial line is not an acknowledgement
  assert.ok(acked.length > 0);
  const store = open();
  const missing: string[] = [];
  for (const key of acked) {
    if (!(await store.get(key))?.value.equals(b(key)) || !(await store.getBlob(key))) missing.push(key);
  }
  assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged keys lost`);
  assert.ok((await store.revision()) >= acked.length);
  t.diagnostic(`${acked.length} acknowledged txns in ~300 ms before SIGKILL, all present after reopen (revision ${await store.revision()})`);
});

test('commit rate (information only)', async (t) => {
  const store = tmp(t).open();
  const value = Buffer.alloc(200, 1);
  const blob = Buffer.alloc(4096, 2);
  let i = 0;
  const one = () => {
    const n = i++;
    return store.txn([{ key: `secrets/${n}`, modRev: 0 }], [
      { type: 'put', key: `secrets/${n}`, value },
      { type: 'putBlob', id: `v/${n}`, data: blob },
    ]);
  };
  const ms = 1000;
  for (const concurrency of [1, 16]) {
    const start = i;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() - t0 < ms) assert.ok((await one()).ok);
      }),
    );
    const rate = ((i - start) / (performance.now() - t0)) * 1000;
    t.diagnostic(`200 B put + 4 KB blob, durable, ${concurrency} in flight: ${Math.round(rate)} commits/s`);
  }
});

test('onProgress reports revisions that change no key, after the changes before them', async (t) => {
  const store = tmp(t).open();
  const seen: string[] = [];
  store.watch(0, (cs) => cs.forEach((c) => seen.push(`change ${c.revision}`)), undefined, (rev) => seen.push(`progress ${rev}`));
  await store.txn([], [put('a', '1')]);
  const blobOnly = await store.txn([], [{ type: 'putBlob', id: 'x', data: b('x') }]);
  await tick();
  assert.equal(blobOnly.revision, 2);
  assert.deepEqual(seen, ['change 1', 'progress 1', 'progress 2']);
});
