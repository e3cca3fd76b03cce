// The contract of a Store (store.ts), as tests that every backend runs: call storeContract() from
// a backend's test file with a way to open a fresh, empty store of it. Backend-specific behaviour
// (files, locking, durability across a crash) is tested beside the backend, not here.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CompactedError, type Change, type Store } from './store.js';

export interface ContractStoreOptions {
  /** How many revisions of change history the store must keep (at least; compaction tests). */
  historyLimit?: number;
}

export interface OpenedStore {
  /** A fresh, empty store. */
  store: Store;
  /** Opens the same data again, after `store` was closed. */
  reopen(): Promise<Store>;
  /** Closes whatever is still open and removes the data. */
  cleanup(): Promise<void>;
}

const b = (s: string) => Buffer.from(s);
const put = (key: string, value: string) => ({ type: 'put' as const, key, value: b(value) });
const del = (key: string) => ({ type: 'delete' as const, key });
const str = (c: Change) => `${c.revision}:${c.key}=${c.value === null ? '<deleted>' : c.value.toString()}`;
const tick = () => new Promise((r) => setImmediate(r));

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

/** Registers the contract's tests, each named `${name}: ...`, against stores from open(). */
export function storeContract(name: string, open: (opts?: ContractStoreOptions) => Promise<OpenedStore>): void {
  // A fresh store per test, closed and removed after it, pass or fail.
  const fresh = async (t: TestContext, opts?: ContractStoreOptions): Promise<Store> => {
    const opened = await open(opts);
    t.after(() => opened.cleanup());
    return opened.store;
  };

  test(`${name}: put, get, range, delete`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: range orders by UTF-8 bytes and handles prefixes ending in high code points`, async (t) => {
    const store = await fresh(t);
    const keys = ['a', 'a\u{10FFFF}', 'a\u{10FFFF}x', 'a\u{10FFFF}\u{10FFFF}', 'b', 'a\uFFFF', 'a\u{10000}', 'a\uD7FF', 'a\uE000', 'a/'];
    await store.txn([], keys.map((k) => put(k, k)));
    const sorted = [...keys].sort((x, y) => Buffer.compare(b(x), b(y)));
    assert.deepEqual((await store.range('')).kvs.map((kv) => kv.key), sorted);
    assert.deepEqual((await store.range('a')).kvs.map((kv) => kv.key), sorted.filter((k) => k.startsWith('a')));
    assert.deepEqual((await store.range('a\u{10FFFF}')).kvs.map((kv) => kv.key), ['a\u{10FFFF}', 'a\u{10FFFF}x', 'a\u{10FFFF}\u{10FFFF}']);
    assert.deepEqual((await store.range('a\uD7FF')).kvs.map((kv) => kv.key), ['a\uD7FF']);
    assert.deepEqual((await store.range('\u{10FFFF}')).kvs, []);
  });

  test(`${name}: invalid keys are rejected with a clear error`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: revisions increase by exactly one per committed txn with ops`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: compare-and-swap`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: atomicity: a failed txn writes none of its ops, blobs included`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: blobs roundtrip and delete, outside the key space`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: watch from 0 replays everything in order, then live changes`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: watch from a mid revision, from the current one, and cancel`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: CompactedError when the history has been pruned`, async (t) => {
    const store = await fresh(t, { historyLimit: 3 });
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

  test(`${name}: an exception in onChanges ends the watch and goes to onError`, async (t) => {
    const store = await fresh(t);
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

  test(`${name}: reopen after close keeps data, blobs, revision and history`, async (t) => {
    const opened = await open({ historyLimit: 100 });
    t.after(() => opened.cleanup());
    let store = opened.store;
    await store.txn([], [put('a', '1'), { type: 'putBlob', id: 'b', data: b('blob') }]);
    await store.txn([], [put('a', '2'), put('c', '3')]);
    // close() commits txns already submitted.
    const pending = store.txn([], [del('c')]);
    await store.close();
    assert.deepEqual(await pending, { ok: true, revision: 3 });
    await assert.rejects(store.get('a'), /store is closed/);
    await assert.rejects(store.txn([], [put('x', 'y')]), /store is closed/);
    await store.close(); // idempotent

    store = await opened.reopen();
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

  test(`${name}: onProgress reports revisions that change no key, after the changes before them`, async (t) => {
    const store = await fresh(t);
    const seen: string[] = [];
    store.watch(0, (cs) => cs.forEach((c) => seen.push(`change ${c.revision}`)), undefined, (rev) => seen.push(`progress ${rev}`));
    await store.txn([], [put('a', '1')]);
    const blobOnly = await store.txn([], [{ type: 'putBlob', id: 'x', data: b('x') }]);
    await tick();
    assert.equal(blobOnly.revision, 2);
    assert.deepEqual(seen, ['change 1', 'progress 1', 'progress 2']);
  });
}
