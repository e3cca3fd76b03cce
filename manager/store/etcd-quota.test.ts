// The etcd store at etcd's space quota (its own cluster, with a 16 MiB quota): a txn fails with the
// store's DiskFullError and writes nothing; reads go on.
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
  let i = 0;
  for (; i < 100 && !err; i++) {
    try {
      await store.txn([], [{ type: 'put', key: `meta/${i}`, value: Buffer.from('m') }, { type: 'putBlob', id: `b${i}`, data: blob }]);
    } catch (e) {
      err = e;
    }
  }
  assert.ok(err instanceof DiskFullError, `expected DiskFullError, got ${String(err)}`);
  assert.ok(i > 5, 'the quota was reached only after some writes');
  const rev = await store.revision();
  assert.equal(rev, i - 1);
  assert.equal(await store.get(`meta/${i - 1}`), undefined);
  assert.deepEqual(await store.getBlob('b0'), blob);
  assert.equal((await store.range('meta/')).kvs.length, i - 1);
});
