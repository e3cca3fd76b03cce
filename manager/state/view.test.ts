import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../store/sqlite.js';
import { encode, keys, type TaskRecord } from './records.js';
import { ClusterView } from './view.js';

function task(id: string, serviceId: string, nodeId: string): TaskRecord {
  return {
    id, serviceId, serviceName: `svc-${serviceId}`, slot: 1, nodeId, desiredState: 'running', state: 'assigned',
    message: '', createdAtMs: 1, stateSinceMs: 1,
  };
}

test('the view indexes tasks by node and by service as they are created, moved and deleted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hush-view-'));
  const store = openSqliteStore(join(dir, 'manager.db'));
  // Tasks already stored when the view opens are indexed too.
  await store.txn([], [{ type: 'put', key: keys.task('t1'), value: encode(task('t1', 's1', 'n1')) }]);
  const view = await ClusterView.open(store, (e) => { throw e; });
  const put = async (t: TaskRecord) => view.waitFor((await store.txn([], [{ type: 'put', key: keys.task(t.id), value: encode(t) }])).revision);
  const del = async (id: string) => view.waitFor((await store.txn([], [{ type: 'delete', key: keys.task(id) }])).revision);
  const ids = (ts: TaskRecord[]) => ts.map((t) => t.id).sort();
  try {
    await put(task('t2', 's1', ''));
    await put(task('t3', 's2', 'n1'));
    assert.deepEqual(ids(view.tasksOfService('s1')), ['t1', 't2'], 'a pending task (no node) belongs to its service');
    assert.deepEqual(ids(view.tasksOnNode('n1')), ['t1', 't3']);

    await put(task('t2', 's1', 'n2'));
    await put(task('t1', 's1', 'n2'));
    assert.deepEqual(ids(view.tasksOnNode('n1')), ['t3']);
    assert.deepEqual(ids(view.tasksOnNode('n2')), ['t1', 't2']);
    assert.deepEqual(view.tasksOfService('s1').map((t) => t.nodeId), ['n2', 'n2'], 'the index gives the current records');

    await del('t1');
    await del('t2');
    assert.deepEqual(view.tasksOfService('s1'), []);
    assert.equal(view.tasksByService.has('s1'), false, 'an empty entry is dropped');
    assert.equal(view.tasksByNode.has('n2'), false);
    assert.deepEqual(ids(view.tasksOfService('s2')), ['t3']);
  } finally {
    view.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
