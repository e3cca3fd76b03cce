// The etcd store at etcd's space quota (its own cluster, with a 16 MiB quota): a txn fails with the
// store's DiskFullError and writes nothing; reads go on. etcd applies the txn that crosses the quota
// and still answers it with "database space exceeded": the store finds it committed and says so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DiskFullError } from './store.js';
import { openEtcdStore } from './etcd.js';
import { startEtcdCluster, type EtcdCluster } from './testdata/etcd-cluster.js';

let cluster: EtcdCluster;
before(async () => {
  cluster = await startEtcdCluster({ quotaBytes: 16 * 1024 * 1024 });
});
after(() => cluster?.stop());

test('at etcd\'s space quota a txn fails with DiskFullError and writes nothing; reads go on', async (t) => {
  const store = await openEtcdStore({ endpoints: cluster.endpoints, prefix: '/quota' });
  t.after(() => store.close());
  const blob = Buffer.alloc(700 * 1024, 5);
  let err: unknown;
  let written = 0;
  for (let i = 0; i < 100 && !err; i++) {
    try {
      const r = await store.txn([], [{ type: 'put', key: `meta/${i}`, value: Buffer.from('m') }, { type: 'putBlob', id: `b${i}`, data: blob }]);
      assert.equal(r.revision, i + 1);
      written++;
    } catch (e) {
      err = e;
    }
  }
  assert.ok(err instanceof DiskFullError, `expected DiskFullError, got ${String(err)}`);
  assert.ok(written > 5, 'the quota was reached only after some writes');
  // Every txn reported ok is there, the refused one is not.
  assert.equal(await store.revision(), written);
  assert.equal(await store.get(`meta/${written}`), undefined);
  assert.equal(await store.getBlob(`b${written}`), undefined);
  assert.deepEqual(await store.getBlob('b0'), blob);
  assert.equal((await store.range('meta/')).kvs.length, written);
});
