// The orchestrator loop on a real full disk: its commit fails, it logs that once, retries on a
// backoff (no spinning, no crash), and commits the tasks by itself once space is freed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqliteStore } from '../store/sqlite.js';
import { encode, keys, type NodeRecord, type ServiceRecord } from '../state/records.js';
import { ClusterView } from '../state/view.js';
import { OrchestratorLoop } from './loop.js';
import { mountSmallDisk } from '../../integration/helpers/tmpfs.js';
import { waitUntil } from '../../common/testing/wait.js';


test('a full disk: the orchestrator logs once, backs off instead of spinning, and commits once space is freed', async (t) => {
  const disk = mountSmallDisk(8 << 20);
  const store = openSqliteStore(join(disk.dir, 'manager.db'));
  let view: ClusterView | undefined;
  let loop: OrchestratorLoop | undefined;
  t.after(async () => {
    loop?.stop();
    view?.close();
    await store.close();
    disk.remove();
  });
  const node: NodeRecord = {
    id: 'n1', role: 'worker', hostname: 'h1', labels: {}, certSerial: 's1', certNotAfterMs: 1e13,
    state: 'ready', availability: 'active', createdAtMs: 1,
  };
  const service: ServiceRecord = {
    id: 's1', name: 'web', mode: 'replicated', replicas: 3, secrets: [], constraints: [], labels: {},
    createdAtMs: 1, updatedAtMs: 1,
  };
  await store.txn([], [
    { type: 'put', key: keys.node(node.id), value: encode(node) },
    { type: 'put', key: keys.service(service.id), value: encode(service) },
  ]);

  let attempts = 0;
  const txn = store.txn.bind(store);
  store.txn = (compares, ops) => { attempts++; return txn(compares, ops); };
  const logs: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line)); } });
  const diskFullLines = () => logs.filter((l) => /disk is full/.test(l.msg));

  view = await ClusterView.open(store, (e) => assert.fail(e));
  disk.fill();
  loop = new OrchestratorLoop(store, view, log);
  loop.start();

  await waitUntil('the first commit attempt', () => attempts >= 1, 5000);
  await waitUntil('a retry with no change to trigger it', () => attempts >= 2, 5000);
  const at = attempts;
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(attempts - at <= 1, `backs off: ${attempts - at} attempts in 1.5 s after the first retry`);
  assert.equal(diskFullLines().length, 1, `one log line per episode: ${JSON.stringify(logs)}`);
  assert.equal(diskFullLines()[0].msg, "the manager's disk is full: task changes wait until space is freed (retrying)");
  assert.equal(logs.filter((l) => l.msg === 'reconcile failed').length, 0);
  assert.equal(view.tasks.size, 0);

  disk.free();
  await waitUntil('the tasks committed once space is freed', () => view!.tasks.size === 3, 40_000);
  assert.deepEqual([...view.tasks.values()].map((task) => task.nodeId), ['n1', 'n1', 'n1']);
  assert.equal(diskFullLines().length, 1);
  assert.ok(logs.some((l) => l.msg === 'the disk has space again: tasks are reconciled'));
});
