// Compaction of etcd's history by one manager at a time, and a view whose feed fell behind it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openEtcdStore, type EtcdStore } from './etcd.js';
import { Compactor } from './etcd-compaction.js';
import { CompactedError, type Store } from './store.js';
import { startEtcdCluster, type EtcdCluster } from './testdata/etcd-cluster.js';
import { ClusterView, type ViewChange } from '../state/view.js';
import { encode, keys } from '../state/records.js';

let cluster: EtcdCluster;
before(async () => { cluster = await startEtcdCluster(); });
after(() => cluster?.stop());

let n = 0;
async function pair(t: { after(fn: () => unknown): void }): Promise<[EtcdStore, EtcdStore]> {
  const prefix = `/c-${process.pid}-${++n}`;
  const a = await openEtcdStore({ endpoints: cluster.endpoints, prefix });
  const b = await openEtcdStore({ endpoints: cluster.endpoints, prefix });
  t.after(() => Promise.all([a.close(), b.close()]));
  return [a, b];
}
const put = (key: string, value: string) => ({ type: 'put' as const, key, value: Buffer.from(value) });

test('compaction: a round compacts at the revision of the same manager\'s previous winning round; of two racing, one wins', async (t) => {
  const [a, b] = await pair(t);
  const ca = new Compactor(a);
  const cb = new Compactor(b);
  const r1 = await a.txn([], [put('/k', '1')]);
  assert.equal(await ca.round(), undefined, 'a first round only records where the next one compacts');
  await a.txn([], [put('/k', '2')]);
  const raced = await Promise.allSettled([ca.round(), cb.round()]);
  assert.ok(raced.every((r) => r.status === 'fulfilled'), 'a lost CAS is no error');
  const compacted = raced.map((r) => (r as PromiseFulfilledResult<number | undefined>).value).filter((v) => v !== undefined);
  assert.ok(compacted.length <= 1, `at most one of two racing rounds compacts: ${JSON.stringify(compacted)}`);
  // Whoever won the race, the next two rounds of one manager compact.
  await ca.round();
  await a.txn([], [put('/k', '3')]);
  const at = await ca.round();
  assert.ok(at !== undefined && at > 0, 'compacted');
  // History before that is gone: a watch from the first write's revision is refused.
  const err = await new Promise<Error>((resolve) => a.watch(r1.revision - 1, () => undefined, resolve));
  assert.ok(err instanceof CompactedError, String(err));
  // The current state is whole.
  assert.equal((await b.get('/k'))?.value.toString(), '3');
});

test('a view whose feed falls behind a compaction lists again: listeners get the difference, then live changes', async (t) => {
  const [a, b] = await pair(t);
  const secret = (id: string) => encode({ id, name: id, labels: {}, createdAtMs: 1, updatedAtMs: 1, versions: [] });
  await a.txn([], [{ type: 'put', key: keys.secret('gone'), value: secret('gone') }]);
  // The view's first watch is held back until the history past it has been compacted, then asked
  // of the real store, which answers with a real CompactedError: a manager cut off for too long.
  let parked: (() => void) | undefined;
  const behind: Store = {
    get: (k) => a.get(k), range: (p) => a.range(p), txn: (c, o) => a.txn(c, o), getBlob: (i) => a.getBlob(i),
    revision: () => a.revision(), close: () => a.close(),
    watch: (from, on, onError, onProgress) => {
      if (parked) return a.watch(from, on, onError, onProgress);
      let cancel = () => undefined as void;
      parked = () => { cancel = a.watch(from, on, onError, onProgress); };
      return () => cancel();
    },
  };
  let fatal: Error | undefined;
  const view = await ClusterView.open(behind, (e) => { fatal = e; });
  t.after(() => view.close());
  const seen: ViewChange[] = [];
  view.onChange((changes) => seen.push(...changes));
  assert.deepEqual([...view.secrets.keys()], ['gone']);
  const c = new Compactor(b);
  await c.round();
  await b.txn([], [{ type: 'delete', key: keys.secret('gone') }, { type: 'put', key: keys.secret('new'), value: secret('new') }]);
  assert.ok((await c.round()) !== undefined, 'compacted past the view\'s revision');
  parked!();
  const current = await b.revision();
  await view.waitFor(current);
  assert.equal(fatal, undefined, 'a compacted history is no fatal error for the view');
  assert.deepEqual([...view.secrets.keys()], ['new']);
  assert.deepEqual(seen.map((ch) => `${ch.kind} ${ch.id} ${ch.after ? 'put' : 'deleted'}`).sort(), ['secret gone deleted', 'secret new put']);
  const r = await b.txn([], [{ type: 'put', key: keys.secret('later'), value: secret('later') }]);
  await view.waitFor(r.revision);
  assert.deepEqual([...view.secrets.keys()].sort(), ['later', 'new'], 'changes after the relist are followed');
});
