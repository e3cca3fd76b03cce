import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../store/sqlite.js';
import { ClusterView } from '../state/view.js';
import { encode, keys, type TaskRecord } from '../state/records.js';
import { commitTaskStatus, STATUS_TXN_OPS } from './task-status.js';

async function withView(fn: (store: ReturnType<typeof openSqliteStore>, view: ClusterView) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hush-task-status-'));
  const store = openSqliteStore(join(dir, 'm.db'));
  const view = await ClusterView.open(store, (e) => { throw e; });
  try {
    await fn(store, view);
  } finally {
    view.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const now = Date.now();
const task = (i: number, nodeId: string): TaskRecord => ({
  id: `t${i}`, serviceId: 'v1', serviceName: 'web', slot: i, nodeId, desiredState: 'running', state: 'assigned', message: '', createdAtMs: now, stateSinceMs: now,
});

async function seed(store: ReturnType<typeof openSqliteStore>, view: ClusterView, tasks: TaskRecord[]): Promise<number> {
  let revision = 0;
  for (let i = 0; i < tasks.length; i += 500) {
    revision = (await store.txn([], tasks.slice(i, i + 500).map((t) => ({ type: 'put' as const, key: keys.task(t.id), value: encode(t) })))).revision;
  }
  await view.waitFor(revision);
  return revision;
}

test('a report on many tasks is committed in a few batches, not one txn per task, and is in the view on return', async () => {
  await withView(async (store, view) => {
    const n = 1_000;
    const before = await seed(store, view, Array.from({ length: n }, (_, i) => task(i, 'n1')));
    await commitTaskStatus(store, view, 'n1', Array.from({ length: n }, (_, i) => ({ taskId: `t${i}`, state: 'ready' as const, message: 'up' })));
    const after = (await store.range(keys.task(''))).revision;
    assert.equal(after - before, Math.ceil(n / STATUS_TXN_OPS), 'one revision per batch');
    for (let i = 0; i < n; i++) assert.equal(view.tasks.get(`t${i}`)?.state, 'ready');
  });
});

test('reports on tasks of other nodes, unknown tasks and unchanged states write nothing', async () => {
  await withView(async (store, view) => {
    const before = await seed(store, view, [task(1, 'n1'), task(2, 'n2'), { ...task(3, 'n1'), state: 'ready' }]);
    await commitTaskStatus(store, view, 'n1', [
      { taskId: 't2', state: 'ready', message: '' }, { taskId: 'nope', state: 'ready', message: '' }, { taskId: 't3', state: 'ready', message: '' },
    ]);
    assert.equal((await store.range(keys.task(''))).revision, before);
    assert.equal(view.tasks.get('t2')?.state, 'assigned', 'another node\'s task is untouched');
  });
});

test('a batch that loses a race is re-read: the report lands on the current record, a task moved away is dropped', async () => {
  await withView(async (store, view) => {
    await seed(store, view, [task(1, 'n1'), task(2, 'n1'), task(3, 'n1')]);
    // Another writer changes t1 (a new message) and moves t2 to another node between the view read and
    // the txn: the store interleaves it before the batch.
    const realTxn = store.txn.bind(store);
    let raced = false;
    (store as { txn: typeof store.txn }).txn = async (compares, ops) => {
      if (!raced) {
        raced = true;
        await realTxn([], [
          { type: 'put', key: keys.task('t1'), value: encode({ ...task(1, 'n1'), message: 'moved on' }) },
          { type: 'put', key: keys.task('t2'), value: encode(task(2, 'n2')) },
        ]);
      }
      return realTxn(compares, ops);
    };
    await commitTaskStatus(store, view, 'n1', ['t1', 't2', 't3'].map((taskId) => ({ taskId, state: 'ready' as const, message: 'up' })));
    assert.equal(view.tasks.get('t1')?.state, 'ready');
    assert.equal(view.tasks.get('t2')?.state, 'assigned');
    assert.equal(view.tasks.get('t2')?.nodeId, 'n2', 'a task moved to another node is not reported on by the old one');
    assert.equal(view.tasks.get('t3')?.state, 'ready');
  });
});
