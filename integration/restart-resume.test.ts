// A manager restart loses nothing and resumes scheduling: pending tasks keep their ids
// and are placed once a node can take them; a node that reconnects after the restart
// keeps its task (it is not rescheduled while it comes back within its grace period).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initManager, startManager, hushOk, freePort, distinctive, type RunningManager } from './helpers/manager.js';
import { TestNode } from './helpers/node.js';
import { waitUntil } from '../common/testing/wait.js';

interface TaskJson { id: string; name: string; node: string; state: string; message: string }

test('a manager restart loses nothing and resumes scheduling', { timeout: 120_000 }, async (t) => {
  const m = await initManager();
  const port = await freePort();
  const env = { ...m.env, HUSH_HEARTBEAT_PERIOD: '1s' };
  const nodes: TestNode[] = [];
  let run: RunningManager | undefined;
  try {
    const hush = async (...args: string[]) => (await hushOk(args, { env: m.env })).stdout;
    const ps = async (svc: string) => (await hush('service', 'ps', svc, '--format', 'json')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as TaskJson);
    run = await startManager(m.stateDir, { env, listen: `127.0.0.1:${port}` });
    const addr = `127.0.0.1:${port}`;

    // Node a runs "kept"; "waiting" can only run on a node labelled zone=b, which does not exist yet.
    const a = await TestNode.join(addr, m.workerToken, 'a');
    nodes.push(a);
    a.open();
    a.startHeartbeats(250);
    await hushOk(['secret', 'create', 's', '-'], { env: m.env, input: distinctive() });
    await hush('service', 'create', '--name', 'kept', '--secret', 's', '--constraint', 'node.hostname==a');
    await hush('service', 'create', '--name', 'waiting', '--replicas', '2', '--secret', 's', '--constraint', 'node.labels.zone==b');
    await a.until('a gets kept.1', () => a.taskNames().includes('kept.1'));
    const keptBefore = await ps('kept');
    const pendingBefore = await ps('waiting');
    assert.equal(pendingBefore.length, 2);
    for (const task of pendingBefore) {
      assert.equal(task.state, 'pending');
      assert.match(task.message, /no suitable node/);
    }

    // Restart the manager; node a reconnects within its grace period.
    await run.stop();
    a.closeStream();
    run = await startManager(m.stateDir, { env, listen: addr });
    // Like an agent: a stream that ends (its channel still in reconnect backoff) is opened again,
    // until one brings the fresh COMPLETE.
    const completes = () => a.messages.filter((x) => x.type === 'COMPLETE').length;
    a.open();
    await waitUntil('a reconnected with a fresh COMPLETE', async () => {
      await a.until('a COMPLETE, or the end of the stream', () => completes() === 2 || a.streamStatus !== undefined, 20_000);
      if (completes() === 2) return true;
      a.open();
      return false;
    }, 20_000, { errors: 'fail', intervalMs: 100 });
    assert.ok(a.taskNames().includes('kept.1'), 'the same task, not rescheduled');
    assert.deepEqual((await ps('kept')).map((x) => x.id), keptBefore.map((x) => x.id));
    const pendingAfter = await ps('waiting');
    assert.deepEqual(pendingAfter.map((x) => x.id).sort(), pendingBefore.map((x) => x.id).sort(), 'pending tasks kept their ids');

    // Scheduling resumes: a node that can take the pending tasks gets both.
    const b = await TestNode.join(addr, m.workerToken, 'b', { zone: 'b' });
    nodes.push(b);
    b.open();
    b.startHeartbeats(250);
    await b.until('b gets both waiting tasks', () => b.taskNames().join() === 'waiting.1,waiting.2', 15_000);
    const placed = await waitUntil('tasks assigned to b', async () => {
      const tasks = await ps('waiting');
      return tasks.every((x) => x.state !== 'pending') ? tasks : undefined;
    }, 10_000, { errors: 'fail' });
    assert.deepEqual(placed.map((x) => x.id).sort(), pendingBefore.map((x) => x.id).sort());
    t.diagnostic('pending tasks survived the restart with their ids and were placed when node b joined');
  } finally {
    for (const n of nodes) n.close();
    await run?.stop();
    m.remove();
  }
});
