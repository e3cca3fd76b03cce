// The etcd backend beyond the contract: the defects etcd-ha.md measured in the etcd3 npm client,
// each reproduced here against the thin client (watch resume point, 4 MiB receive cap, compaction,
// deadlines, close() and process exit), the request-size limit, and writes whose outcome is unknown.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../common/testing/wait.js';
import { CompactedError, FencedError, type Change } from './store.js';
import { campaign } from './etcd-election.js';
import { openEtcdStore, type EtcdStore, type EtcdStoreOptions } from './etcd.js';
import { openStore } from './open.js';
import { EtcdClient } from './etcd-rpc.js';
import { encodeCounter, encodeValue, layout } from './etcd-layout.js';
import { startEtcdCluster, type EtcdCluster, type EtcdMember } from './testdata/etcd-cluster.js';

let cluster: EtcdCluster;
before(async () => {
  cluster = await startEtcdCluster();
});
after(() => cluster?.stop());

let n = 0;
async function fresh(t: { after(fn: () => unknown): void }, opts: Partial<EtcdStoreOptions> = {}): Promise<EtcdStore> {
  const s = await openEtcdStore({ endpoints: cluster.endpoints, prefix: `/t-${process.pid}-${++n}`, ...opts });
  t.after(() => s.close());
  return s;
}
const raw = (t: { after(fn: () => unknown): void }) => {
  const c = new EtcdClient({ endpoints: cluster.endpoints });
  t.after(() => c.close());
  return c;
};
const put = (key: string, value: Buffer | string) => ({ type: 'put' as const, key, value: Buffer.from(value) });
const signal = (m: EtcdMember, sig: NodeJS.Signals) => process.kill(m.proc!.pid!, sig);

/** SIGSTOPs members 2 and 3 (member 1 loses its quorum) until the returned function or the test's end. */
function loseQuorum(t: TestContext): () => void {
  const [, m2, m3] = cluster.members;
  const regain = () => {
    signal(m2, 'SIGCONT');
    signal(m3, 'SIGCONT');
  };
  signal(m2, 'SIGSTOP');
  signal(m3, 'SIGSTOP');
  t.after(regain);
  return regain;
}

test('a watch broken mid catch-up resumes from its last event + 1, not the response header (defect 1): every revision arrives once', async (t) => {
  const store = await fresh(t);
  // 1,200 store revisions (written raw, as the store writes them, to be quick): more than the 1,000
  // revisions etcd sends in one catch-up response, whose header carries the current revision.
  const c = raw(t);
  const l = layout(`/t-${process.pid}-${n}`);
  const total = 1200;
  for (let i = 1; i <= total; i++) {
    await c.txn({ compare: [], failure: [], success: [
      { requestPut: { key: l.counter, value: encodeCounter(i, 'raw') } },
      { requestPut: { key: Buffer.concat([l.keyPrefix, Buffer.from(`k${i % 10}`)]), value: encodeValue(i, i, Buffer.from(String(i))) } },
    ] });
  }
  const got: Change[] = [];
  let calls = 0;
  store.watch(0, (cs) => {
    got.push(...cs);
    // After the first delivery (one catch-up response at most), the stream breaks as a dying member's would.
    if (calls++ === 0) store.etcdWatches[0].breakStream();
  });
  await waitUntil('every revision delivered', () => got.length >= total, 20_000);
  assert.ok(calls >= 2);
  assert.equal(store.etcdWatches[0].opens, 2);
  assert.deepEqual(got.map((ch) => ch.revision), Array.from({ length: total }, (_, i) => i + 1));
  await store.txn([], [put('after', 'x')]);
  await waitUntil('live change after the resume', () => got.length === total + 1);
  assert.equal(got[total].revision, total + 1);
});

test('ranges and watch batches over 4 MiB arrive whole (defect 2: no receive cap)', async (t) => {
  const store = await fresh(t);
  const big = Buffer.alloc(500 * 1024, 0xab);
  for (let i = 0; i < 10; i++) await store.txn([], [put(`big/${i}`, big)]);
  const { kvs } = await store.range('big/');
  assert.equal(kvs.length, 10);
  assert.ok(kvs.every((kv) => kv.value.equals(big)));
  const got: Change[] = [];
  store.watch(0, (cs) => got.push(...cs));
  await waitUntil('all 10 big changes', () => got.length === 10);
  assert.ok(got.every((ch) => ch.value!.equals(big)));
});

test('a watch from a revision etcd compacted (by anyone) ends with a CompactedError in store revisions; relisting and watching from the list works (defect 3)', async (t) => {
  const a = await fresh(t);
  for (let i = 1; i <= 5; i++) await a.txn([], [put('k', String(i))]);
  // Another client compacts the whole cluster at the current etcd revision.
  const c = raw(t);
  const head = (await c.range({ key: Buffer.from('x') })).header.revision;
  await c.compact(head);
  // A second store on the same prefix (no local knowledge of the compaction) watches from 1.
  const b = await openEtcdStore({ endpoints: cluster.endpoints, prefix: `/t-${process.pid}-${n}` });
  t.after(() => b.close());
  const err = await new Promise<Error>((resolve) => b.watch(1, () => assert.fail('no changes expected'), resolve));
  assert.ok(err instanceof CompactedError, String(err));
  assert.equal(err.requested, 1);
  assert.equal(err.compactRevision, 5);
  // Relist, then watch from the list's revision.
  const list = await b.range('');
  assert.equal(list.revision, 5);
  const got: Change[] = [];
  b.watch(list.revision, (cs) => got.push(...cs));
  await a.txn([], [put('k', '6')]);
  await waitUntil('the change after the relist', () => got.length === 1);
  assert.equal(got[0].revision, 6);
});

test('every call has a deadline: without a quorum a read and a write fail after it instead of hanging (defect 7)', async (t) => {
  const store = await fresh(t, { endpoints: [cluster.members[0].client], deadlineMs: 300 });
  await store.txn([], [put('k', 'v')]);
  const regain = loseQuorum(t);
  await assert.rejects(store.get('k'), /deadline/i);
  await assert.rejects(store.range(''), /deadline/i);
  regain();
  await waitUntil('the cluster answers again', async () => (await store.get('k'))?.value.toString() === 'v', 20_000);
});

test('a watch on a member that lost its leader ends its stream (require-leader) and resumes, with no gap, once the member has one again (defect 6)', async (t) => {
  const store = await fresh(t, { endpoints: [cluster.members[0].client] });
  const writer = await openEtcdStore({ endpoints: [cluster.members[1].client], prefix: `/t-${process.pid}-${n}` });
  t.after(() => writer.close());
  const got: Change[] = [];
  store.watch(0, (cs) => got.push(...cs));
  await writer.txn([], [put('k', '1')]);
  await waitUntil('first change', () => got.length === 1);
  const regain = loseQuorum(t);
  // Without require-leader the stream would stay open and silent.
  await waitUntil('the leaderless member ended the watch stream', () => store.etcdWatches[0].opens > 1, 15_000);
  regain();
  await waitUntil('the writer writes again', async () => (await writer.txn([], [put('k', '2')])).ok, 20_000);
  await waitUntil('the change after the resume', () => got.length === 2, 15_000);
  assert.deepEqual(got.map((c) => [c.revision, c.value?.toString()]), [[1, '1'], [2, '2']]);
});

test('a write whose outcome is unknown (its deadline passed without a quorum) is resolved before it is reported: a create-if-absent that committed is ok, once', async (t) => {
  const store = await fresh(t, { endpoints: [cluster.members[0].client], deadlineMs: 300 });
  await store.txn([], [put('a', '1')]);
  let regain = () => {};
  store.beforeWrite = () => {
    regain = loseQuorum(t);
    store.beforeWrite = undefined;
  };
  const result = store.txn([{ key: 'k', modRev: 0 }], [put('k', 'once')]);
  await waitUntil('the write timed out', () => store.unknownOutcomes === 1);
  regain();
  assert.deepEqual(await result, { ok: true, revision: 2 });
  assert.equal(await store.revision(), 2);
  assert.deepEqual(await store.get('k'), { key: 'k', value: Buffer.from('once'), createRev: 2, modRev: 2 });
});

test('a fenced write whose outcome is unknown, its fence deleted meanwhile: either it committed and is reported ok, or FencedError with nothing written', async (t) => {
  const store = await fresh(t, { endpoints: [cluster.members[0].client], deadlineMs: 300 });
  const prefix = `/t-${process.pid}-${n}`;
  const candidate = await campaign(store.client, { prefix, name: 'sched', value: 'me', ttlSec: 30 });
  t.after(() => candidate.close());
  await candidate.elected;
  await store.txn([], [put('a', '1')], { fence: candidate });
  let regain = () => {};
  store.beforeWrite = () => {
    regain = loseQuorum(t);
    store.beforeWrite = undefined;
  };
  const result = store.txn([{ key: 'k', modRev: 0 }], [put('k', 'once')], { fence: candidate }).then((r) => r, (e: Error) => e);
  await waitUntil('the write timed out', () => store.unknownOutcomes === 1);
  regain();
  // The campaign key goes (a lease expired, say) while the outcome is still being resolved.
  const c = raw(t);
  await waitUntil('the campaign key deleted', async () => (await c.txn({ compare: [], failure: [], success: [{ requestDeleteRange: { key: candidate.key } }] }).then(() => true, () => false)), 10_000);
  const outcome = await result;
  const stored = await store.get('k');
  if (outcome instanceof Error) {
    assert.ok(outcome instanceof FencedError, String(outcome));
    assert.equal(stored, undefined, 'reported refused: nothing written');
  } else {
    assert.equal(outcome.ok, true);
    assert.equal(stored?.value.toString(), 'once', 'reported ok: written, once');
    assert.equal(stored?.modRev, outcome.revision);
  }
});

test('a txn must fit etcd\'s request limit: a 500 KB secret create fits; a larger one is refused with one line and writes nothing', async (t) => {
  const store = await fresh(t);
  const secret = Buffer.alloc(500 * 1024, 1);
  assert.deepEqual(await store.txn([{ key: 'secrets/s1', modRev: 0 }], [
    put('secrets/s1', '{"name":"db"}'), put('names/secret/db', 's1'), { type: 'putBlob', id: 's1/1', data: secret },
  ]), { ok: true, revision: 1 });
  assert.deepEqual(await store.getBlob('s1/1'), secret);
  const over = [{ type: 'putBlob' as const, id: 'x1', data: Buffer.alloc(800 * 1024) }, { type: 'putBlob' as const, id: 'x2', data: Buffer.alloc(800 * 1024) }];
  await assert.rejects(store.txn([], over), (e: Error) => {
    assert.match(e.message, /^etcd store: this txn is \d+ bytes, over etcd's request limit of 1572864 bytes \(--max-request-bytes\); nothing was written$/);
    return true;
  });
  assert.equal(await store.revision(), 1);
  // Told a larger limit than the members have, etcd itself refuses it: nothing written either.
  const lax = await fresh(t, { maxRequestBytes: 8 * 1024 * 1024, prefix: `/t-${process.pid}-${n}` });
  await assert.rejects(lax.txn([], over), /^Error: etcd store: txn refused: etcdserver: request is too large$/);
  assert.equal(await store.revision(), 1);
  assert.equal(await store.getBlob('x1'), undefined);
});

test('a txn must fit etcd\'s op limit (128, less the counter): 127 ops commit, 128 are refused with one line; a txn comparing 300 keys reads them from one snapshot', async (t) => {
  const store = await fresh(t);
  const ops = (n: number, p: string) => Array.from({ length: n }, (_, i) => put(`${p}/${i}`, 'v'));
  assert.deepEqual(await store.txn([], ops(127, 'a')), { ok: true, revision: 1 });
  await assert.rejects(store.txn([], ops(128, 'b')), /^TxnTooLargeError: etcd store: this txn has 128 ops, over etcd's limit of 127 \(--max-txn-ops, less the revision counter\); nothing was written$/);
  const compares = Array.from({ length: 300 }, (_, i) => ({ key: `c/${i}`, modRev: 0 }));
  assert.deepEqual(await store.txn(compares, [put('c/0', 'x')]), { ok: true, revision: 2 });
  assert.deepEqual(await store.txn(compares, [put('c/1', 'x')]), { ok: false, revision: 2 });
  assert.equal(await store.get('b/0'), undefined);
});

test('close() with a watch whose member stopped answering lets the process exit (defect 8)', async (t) => {
  const m1 = cluster.members[0];
  const child = spawn(process.execPath, [fileURLToPath(new URL('./testdata/etcd-close-child.js', import.meta.url)), m1.client, `/t-${process.pid}-${++n}`],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
    signal(m1, 'SIGCONT');
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await waitUntil('child ready', () => out.includes('ready'));
  signal(m1, 'SIGSTOP');
  child.stdin.write('close\n');
  await waitUntil('child closed the store', () => out.includes('closed'));
  await waitUntil('child exited by itself', () => child.exitCode !== null, 10_000);
  assert.equal(child.exitCode, 0);
  signal(m1, 'SIGCONT');
});

test('two stores (two managers) on one prefix: concurrent txns each get one revision, CAS holds across them, both watches see the same history', async (t) => {
  const a = await fresh(t);
  const b = await openEtcdStore({ endpoints: [...cluster.endpoints].reverse(), prefix: `/t-${process.pid}-${n}` });
  t.after(() => b.close());
  const seenA: Change[] = [];
  const seenB: Change[] = [];
  a.watch(0, (cs) => seenA.push(...cs));
  b.watch(0, (cs) => seenB.push(...cs));
  // Each increments a shared counter key with compare-and-swap, retrying on conflict.
  const incr = async (s: EtcdStore) => {
    for (;;) {
      const kv = await s.get('n');
      const r = await s.txn([{ key: 'n', modRev: kv?.modRev ?? 0 }], [put('n', String(Number(kv?.value.toString() ?? 0) + 1))]);
      if (r.ok) return r.revision;
    }
  };
  const revs = (await Promise.all([a, b].map(async (s) => {
    const out: number[] = [];
    for (let i = 0; i < 15; i++) out.push(await incr(s));
    return out;
  }))).flat();
  assert.deepEqual([...revs].sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i + 1));
  assert.equal((await a.get('n'))?.value.toString(), '30');
  await waitUntil('both watches saw all 30', () => seenA.length === 30 && seenB.length === 30);
  assert.deepEqual(seenA.map((c) => `${c.revision}=${c.value}`), seenB.map((c) => `${c.revision}=${c.value}`));
  assert.deepEqual(seenA.map((c) => c.value?.toString()), Array.from({ length: 30 }, (_, i) => String(i + 1)));
});

test('openStore over TLS: members refuse a client without a certificate or trusting another CA, in one line', async () => {
  const prefix = `/t-${process.pid}-${++n}`;
  const ok = await openStore({ backend: 'etcd', endpoints: cluster.tlsEndpoints, prefix, tls: cluster.tls });
  await ok.txn([], [put('k', 'v')]);
  await ok.close();
  const noCert = openStore({ backend: 'etcd', endpoints: cluster.tlsEndpoints, prefix, tls: { ca: cluster.tls.ca }, deadlineMs: 1000 });
  await assert.rejects(noCert, /^Error: etcd store: cannot reach etcd at 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+: [^\n]+$/);
  const plainToTls = openStore({ backend: 'etcd', endpoints: cluster.tlsEndpoints, prefix, deadlineMs: 1000 });
  await assert.rejects(plainToTls, /^Error: etcd store: cannot reach etcd at /);
});

// Last: it leaves the cluster with two members.
test('a member killed under a store: txns go on through the others, each reported once, and the watch resumes with no gap or duplicate', async (t) => {
  const store = await fresh(t);
  const got: Change[] = [];
  store.watch(0, (cs) => got.push(...cs));
  const results: number[] = [];
  for (let i = 1; i <= 20; i++) {
    if (i === 6) await cluster.kill(cluster.members[0]); // the member pick_first connected to
    const r = await store.txn([{ key: `k${i}`, modRev: 0 }], [put(`k${i}`, String(i))]);
    assert.ok(r.ok);
    results.push(r.revision);
  }
  assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i + 1));
  await waitUntil('every change watched', () => got.length >= 20, 15_000);
  assert.deepEqual(got.map((c) => `${c.revision}:${c.key}`), Array.from({ length: 20 }, (_, i) => `${i + 1}:k${i + 1}`));
  assert.equal(await store.revision(), 20);
});
