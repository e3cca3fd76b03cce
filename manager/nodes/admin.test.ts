import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../store/sqlite.js';
import { encode, keys, type NodeRecord } from '../state/records.js';
import { ClusterView } from '../state/view.js';
import { NodeRegistry } from './registry.js';
import { NodeAdmin } from './admin.js';

function nodeRecord(id: string, certNotAfterMs: number): NodeRecord {
  return {
    id, role: 'worker', hostname: `host-${id}`, labels: {}, certSerial: `serial-${id}`, certNotAfterMs,
    state: 'down', availability: 'active', createdAtMs: 1,
  };
}

test('the deny list drops removed nodes\' certificates once they have expired, and only those', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hush-nodes-'));
  const store = openSqliteStore(join(dir, 'manager.db'));
  const view = await ClusterView.open(store, (e) => { throw e; });
  try {
    const admin = new NodeAdmin(store, view, new NodeRegistry(store));
    const now = Date.now();
    for (const n of [nodeRecord('old', now - 1000), nodeRecord('fresh', now + 3_600_000)]) {
      await store.txn([], [{ type: 'put', key: keys.node(n.id), value: encode(n) }]);
    }
    await admin.remove('old', false);
    await admin.remove('fresh', false);
    assert.deepEqual([...view.denied.keys()].sort(), ['serial-fresh', 'serial-old'], 'removal denies both certificates');

    assert.equal(await admin.pruneDenied(now), 1);
    assert.deepEqual([...view.denied.keys()], ['serial-fresh'], 'the unexpired certificate stays denied');
    assert.equal(await store.get(keys.deniedCert('serial-old')), undefined, 'the expired entry is gone from the store');
    assert.equal(await admin.pruneDenied(now), 0, 'nothing left to prune');
    assert.equal(await admin.pruneDenied(now + 7_200_000), 1, 'the other goes once it has expired');
    assert.equal(view.denied.size, 0);
  } finally {
    view.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
