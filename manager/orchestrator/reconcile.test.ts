import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeRecord, ServiceRecord, TaskRecord } from '../state/records.js';
import { reconcile, type TaskChanges } from './reconcile.js';
import { scopedInput } from './loop.js';
import { seededRandom as prng } from '../../common/testing/seeded-random.js';

// A small cluster simulator: state in maps, reconcile, apply the changes.

function node(id: string, o: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id, role: 'worker', hostname: `host-${id}`, labels: {}, certSerial: `serial-${id}`, certNotAfterMs: 1e13,
    state: 'ready', availability: 'active', createdAtMs: 1, ...o,
  };
}

function service(id: string, o: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id, name: `svc-${id}`, mode: 'replicated', replicas: 1, secrets: [], constraints: [], labels: {},
    createdAtMs: 1, updatedAtMs: 1, ...o,
  };
}

class Cluster {
  services = new Map<string, ServiceRecord>();
  tasks = new Map<string, TaskRecord>();
  nodes = new Map<string, NodeRecord>();
  now = 1000;
  private seq = 0;

  constructor(nodes: NodeRecord[] = [], services: ServiceRecord[] = []) {
    for (const n of nodes) this.nodes.set(n.id, n);
    for (const s of services) this.services.set(s.id, s);
  }

  setNode(id: string, o: Partial<NodeRecord>): void {
    this.nodes.set(id, { ...(this.nodes.get(id) ?? node(id)), ...o });
  }

  setService(id: string, o: Partial<ServiceRecord>): void {
    this.services.set(id, { ...(this.services.get(id) ?? service(id)), ...o });
  }

  /** One reconcile pass, applied; returns the changes. */
  step(): TaskChanges {
    this.now += 1000;
    const changes = reconcile({
      services: this.services, tasks: this.tasks, nodes: this.nodes, now: this.now,
      newId: () => `t${String(++this.seq).padStart(4, '0')}`,
    });
    for (const id of changes.delete) {
      assert.ok(this.tasks.has(id), `deletes an existing task ${id}`);
      this.tasks.delete(id);
    }
    for (const t of changes.put) {
      assert.ok(!changes.delete.includes(t.id), `${t.id} both put and deleted`);
      this.tasks.set(t.id, t);
    }
    assert.equal(new Set(changes.put.map((t) => t.id)).size, changes.put.length, 'each task put once');
    return changes;
  }

  /** A pass, then a check that a second pass has nothing left to do. */
  converge(): TaskChanges {
    const changes = this.step();
    const again = this.step();
    assert.deepEqual(again, { put: [], delete: [] }, 'reconciling the result changes nothing');
    return changes;
  }

  of(serviceId: string): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.serviceId === serviceId).sort((a, b) => a.slot - b.slot || (a.nodeId < b.nodeId ? -1 : 1));
  }

  onNode(nodeId: string): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.nodeId === nodeId);
  }

  /** Node id of each slot of a replicated service. */
  placement(serviceId: string): Record<number, string> {
    return Object.fromEntries(this.of(serviceId).map((t) => [t.slot, t.nodeId]));
  }

  /** Mark every task as reported ready by its node (the path reconcile never takes). */
  markReady(): void {
    for (const [id, t] of this.tasks) if (t.state === 'assigned') this.tasks.set(id, { ...t, state: 'ready' });
  }
}

const threeNodes = () => [node('n1'), node('n2'), node('n3')];

test('spread: 3 replicas on 3 equal nodes run one each, as new assigned records', () => {
  const c = new Cluster(threeNodes(), [service('s1', { replicas: 3 })]);
  const changes = c.converge();
  assert.equal(changes.put.length, 3);
  assert.deepEqual(changes.delete, []);
  assert.deepEqual(c.placement('s1'), { 1: 'n1', 2: 'n2', 3: 'n3' });
  const first = c.of('s1')[0];
  assert.deepEqual(first, {
    id: first.id, serviceId: 's1', serviceName: 'svc-s1', slot: 1, nodeId: 'n1', desiredState: 'running',
    state: 'assigned', message: '', createdAtMs: 2000, stateSinceMs: 2000,
  });
  assert.ok(!('forNodeId' in first), 'replicated tasks have no forNodeId');
});

test('spread holds with more replicas than nodes: 7 on 3 nodes is 3/2/2', () => {
  const c = new Cluster(threeNodes(), [service('s1', { replicas: 7 })]);
  c.converge();
  assert.deepEqual(['n1', 'n2', 'n3'].map((n) => c.onNode(n).length), [3, 2, 2]);
});

test('scale up keeps existing slots and ids; scale down deletes the slots above replicas', () => {
  const c = new Cluster(threeNodes(), [service('s1', { replicas: 3 })]);
  c.converge();
  c.markReady();
  const before = new Map(c.of('s1').map((t) => [t.slot, t]));

  c.setService('s1', { replicas: 5 });
  const up = c.converge();
  assert.deepEqual(up.put.map((t) => t.slot).sort(), [4, 5], 'only the new slots are written');
  assert.deepEqual(up.delete, []);
  for (const [slot, t] of before) assert.deepEqual(c.of('s1').find((x) => x.slot === slot), t, `slot ${slot} untouched`);
  assert.deepEqual(c.of('s1').map((t) => t.slot), [1, 2, 3, 4, 5]);
  assert.ok(['n1', 'n2', 'n3'].every((n) => c.onNode(n).length <= 2), 'still spread');

  const slot1 = c.of('s1')[0];
  const slot2 = c.of('s1')[1];
  const doomed = c.of('s1').filter((t) => t.slot > 2).map((t) => t.id).sort();
  c.setService('s1', { replicas: 2 });
  const down = c.converge();
  assert.deepEqual(down.put, []);
  assert.deepEqual([...down.delete].sort(), doomed);
  assert.deepEqual(c.of('s1'), [slot1, slot2]);

  c.setService('s1', { replicas: 0 });
  c.converge();
  assert.deepEqual(c.of('s1'), []);
});

test('global: one task per eligible node, slot 0, forNodeId = nodeId', () => {
  const c = new Cluster(
    [node('n1'), node('n2', { availability: 'drain' }), node('n3', { state: 'down' }), node('n4', { labels: { zone: 'b' } }), node('n5', { labels: { zone: 'a' } })],
    [service('g', { mode: 'global', replicas: 0, constraints: ['node.labels.zone!=b'] })],
  );
  c.converge();
  const tasks = c.of('g');
  assert.deepEqual(tasks.map((t) => t.nodeId), ['n1', 'n5']);
  for (const t of tasks) {
    assert.equal(t.slot, 0);
    assert.equal(t.forNodeId, t.nodeId);
    assert.equal(t.state, 'assigned');
    assert.equal(t.desiredState, 'running');
  }
});

test('global follows a join, a drain, a pause, a label change and a removal', () => {
  const c = new Cluster([node('n1', { labels: { tier: 'web' } }), node('n2', { labels: { tier: 'web' } })],
    [service('g', { mode: 'global', constraints: ['node.labels.tier==web'] })]);
  c.converge();
  c.markReady();
  const byNode = () => Object.fromEntries(c.of('g').map((t) => [t.nodeId, t.id]));
  const initial = byNode();
  assert.deepEqual(Object.keys(initial), ['n1', 'n2']);

  // A node joins: it is unknown until its first heartbeat, then ready.
  c.setNode('n3', { state: 'unknown', labels: { tier: 'web' } });
  assert.deepEqual(c.converge(), { put: [], delete: [] }, 'not ready yet: no task');
  c.setNode('n3', { state: 'ready' });
  const join = c.converge();
  assert.deepEqual(join.put.map((t) => t.nodeId), ['n3']);
  assert.deepEqual(join.delete, []);
  assert.equal(byNode().n1, initial.n1);

  // Drain: the task is deleted, not moved anywhere.
  c.setNode('n1', { availability: 'drain' });
  const drain = c.converge();
  assert.deepEqual(drain, { put: [], delete: [initial.n1] });
  assert.deepEqual(Object.keys(byNode()).sort(), ['n2', 'n3']);

  // Back to active: a new task (a new id).
  c.setNode('n1', { availability: 'active' });
  const back = c.converge();
  assert.equal(back.put.length, 1);
  assert.notEqual(back.put[0].id, initial.n1);

  // Pause keeps the task.
  c.setNode('n2', { availability: 'pause' });
  assert.deepEqual(c.converge(), { put: [], delete: [] });

  // A label change evicts.
  c.setNode('n2', { labels: { tier: 'db' } });
  assert.deepEqual(c.converge(), { put: [], delete: [initial.n2] });

  // Removal from the cluster deletes the node's task.
  const n3task = byNode().n3;
  c.nodes.delete('n3');
  assert.deepEqual(c.converge(), { put: [], delete: [n3task] });
  assert.deepEqual(Object.keys(byNode()), ['n1']);
});

test('global: a paused node keeps its task but a newly joined paused node gets none', () => {
  const c = new Cluster([node('n1')], [service('g', { mode: 'global' })]);
  c.converge();
  c.setNode('n1', { availability: 'pause' });
  c.setNode('n2', { availability: 'pause' });
  assert.deepEqual(c.converge(), { put: [], delete: [] });
  assert.deepEqual(c.of('g').map((t) => t.nodeId), ['n1']);
});

test('drain moves replicated tasks off the node, keeping their ids', () => {
  const c = new Cluster(threeNodes(), [service('s1', { replicas: 3 })]);
  c.converge();
  c.markReady();
  const onN1 = c.onNode('n1')[0];
  const others = c.of('s1').filter((t) => t.nodeId !== 'n1');

  c.setNode('n1', { availability: 'drain' });
  const changes = c.converge();
  assert.deepEqual(changes.delete, []);
  assert.equal(changes.put.length, 1, 'only the drained node\'s task changes');
  const moved = changes.put[0];
  assert.deepEqual(moved, { ...onN1, nodeId: 'n2', state: 'assigned', stateSinceMs: c.now - 1000, message: '' });
  assert.equal(c.onNode('n1').length, 0);
  for (const t of others) assert.deepEqual(c.tasks.get(t.id), t, 'the other tasks keep their state');
});

test('a down node\'s tasks are rescheduled; a removed node\'s too', () => {
  const c = new Cluster(threeNodes(), [service('s1', { replicas: 2 })]);
  c.converge();
  c.markReady();
  const p = c.placement('s1');
  assert.deepEqual(p, { 1: 'n1', 2: 'n2' });
  const id1 = c.of('s1')[0].id;

  c.setNode('n1', { state: 'down' });
  c.converge();
  assert.deepEqual(c.placement('s1'), { 1: 'n3', 2: 'n2' });
  assert.equal(c.of('s1')[0].id, id1);
  assert.equal(c.of('s1')[0].state, 'assigned');

  c.markReady();
  c.nodes.delete('n2');
  c.converge();
  assert.deepEqual(c.placement('s1'), { 1: 'n3', 2: 'n3' });
  // The node comes back: nothing moves back (no rebalancing of running tasks).
  c.setNode('n1', { state: 'ready' });
  assert.deepEqual(c.converge(), { put: [], delete: [] });
});

test('an unknown node (manager just restarted) keeps its tasks but takes no new ones', () => {
  const c = new Cluster([node('n1'), node('n2')], [service('s1', { replicas: 2 })]);
  c.converge();
  c.markReady();
  c.setNode('n1', { state: 'unknown' });
  c.setNode('n2', { state: 'unknown' });
  assert.deepEqual(c.converge(), { put: [], delete: [] });
  c.setService('s1', { replicas: 3 });
  c.converge();
  const slot3 = c.of('s1').find((t) => t.slot === 3)!;
  assert.equal(slot3.state, 'pending');
  assert.equal(slot3.message, 'no suitable node: 2 nodes (2 not ready)');
  assert.deepEqual(c.onNode('n1').map((t) => t.state), ['ready']);
});

test('pause keeps existing tasks but takes no new ones', () => {
  const c = new Cluster([node('n1'), node('n2')], [service('s1', { replicas: 2 })]);
  c.converge();
  c.markReady();
  c.setNode('n1', { availability: 'pause' });
  c.setService('s1', { replicas: 4 });
  const changes = c.converge();
  assert.deepEqual(changes.put.map((t) => [t.slot, t.nodeId]), [[3, 'n2'], [4, 'n2']]);
  assert.equal(c.onNode('n1').length, 1);
  assert.equal(c.onNode('n1')[0].state, 'ready');
});

test('constraints: role, hostname, id and labels with == and !=', () => {
  const nodes = [
    node('m1', { role: 'manager', hostname: 'alpha', labels: { zone: 'a', ssd: 'true' } }),
    node('w1', { hostname: 'beta', labels: { zone: 'a' } }),
    node('w2', { hostname: 'gamma', labels: { zone: 'b', ssd: 'true' } }),
  ];
  const cases: [string[], string[]][] = [
    [['node.role==manager'], ['m1']],
    [['node.role!=manager'], ['w1', 'w2']],
    [['node.hostname==beta'], ['w1']],
    [['node.hostname!=beta'], ['m1', 'w2']],
    [['node.id==w2'], ['w2']],
    [['node.labels.zone==a'], ['m1', 'w1']],
    [['node.labels.zone != a'], ['w2']],
    [['node.labels.ssd==true', 'node.role==worker'], ['w2']],
    [['node.labels.ssd!=true'], ['w1']],
    [['node.labels.missing==x'], []],
  ];
  for (const [constraints, expected] of cases) {
    const c = new Cluster(nodes, [service('g', { mode: 'global', constraints })]);
    c.converge();
    assert.deepEqual(c.of('g').map((t) => t.nodeId).sort(), expected, constraints.join(' && '));
  }
  const r = new Cluster(nodes, [service('s1', { replicas: 4, constraints: ['node.labels.zone==a'] })]);
  r.converge();
  assert.deepEqual(r.of('s1').map((t) => t.nodeId).sort(), ['m1', 'm1', 'w1', 'w1']);
});

test('a label change evicts a replicated task to a node that still matches', () => {
  const c = new Cluster([node('n1', { labels: { gpu: 'yes' } }), node('n2', { labels: { gpu: 'yes' } }), node('n3')],
    [service('s1', { replicas: 1, constraints: ['node.labels.gpu==yes'] })]);
  c.converge();
  c.markReady();
  const t = c.of('s1')[0];
  assert.equal(t.nodeId, 'n1');
  c.setNode('n1', { labels: {} });
  c.converge();
  assert.deepEqual(c.of('s1'), [{ ...t, nodeId: 'n2', state: 'assigned', stateSinceMs: c.now - 1000 }]);
  // A service constraint change evicts too.
  c.markReady();
  c.setService('s1', { constraints: ['node.hostname==host-n3'] });
  c.converge();
  assert.equal(c.of('s1')[0].nodeId, 'n3');
  assert.equal(c.of('s1')[0].id, t.id);
});

test('pending: the reason counts each node once, and the task is assigned once a node fits', () => {
  const c = new Cluster(
    [node('n1', { state: 'down', availability: 'drain' }), node('n2', { availability: 'drain' }), node('n3', { labels: { zone: 'b' } })],
    [service('s1', { replicas: 2, constraints: ['node.labels.zone==a'] })],
  );
  c.converge();
  const pending = c.of('s1');
  assert.equal(pending.length, 2);
  for (const t of pending) {
    assert.equal(t.state, 'pending');
    assert.equal(t.nodeId, '');
    assert.equal(t.desiredState, 'running');
    assert.equal(t.message, 'no suitable node: 3 nodes (1 down, 1 drained, 1 not matching constraints)');
  }

  // The reason follows the cluster without touching stateSinceMs.
  c.setNode('n4', { availability: 'pause', labels: { zone: 'a' } });
  const reworded = c.converge();
  assert.deepEqual(reworded.put, pending.map((t) => ({ ...t, message: 'no suitable node: 4 nodes (1 down, 1 drained, 1 paused, 1 not matching constraints)' })));

  // A matching node appears: the same tasks are assigned.
  c.setNode('n3', { labels: { zone: 'a' } });
  c.converge();
  const now = c.now - 1000;
  assert.deepEqual(c.of('s1'), pending.map((t) => ({ ...t, nodeId: 'n3', state: 'assigned', message: '', stateSinceMs: now })));
});

test('pending with no nodes at all, then a first node joins', () => {
  const c = new Cluster([], [service('s1', { replicas: 1 })]);
  c.converge();
  const [t] = c.of('s1');
  assert.equal(t.state, 'pending');
  assert.equal(t.message, 'no suitable node: no nodes have joined the cluster');
  c.setNode('n1', {});
  c.converge();
  assert.deepEqual(c.of('s1'), [{ ...t, nodeId: 'n1', state: 'assigned', message: '', stateSinceMs: c.now - 1000 }]);
});

test('pending reason for a single node says "1 node"', () => {
  const c = new Cluster([node('n1', { availability: 'pause' })], [service('s1')]);
  c.converge();
  assert.equal(c.of('s1')[0].message, 'no suitable node: 1 node (1 paused)');
});

test('a task whose node can no longer keep it, with nowhere to go, becomes pending with its id', () => {
  const c = new Cluster([node('n1')], [service('s1')]);
  c.converge();
  c.markReady();
  const [t] = c.of('s1');
  c.setNode('n1', { state: 'down' });
  c.converge();
  assert.deepEqual(c.of('s1'), [{ ...t, nodeId: '', state: 'pending', message: 'no suitable node: 1 node (1 down)', stateSinceMs: c.now - 1000 }]);
});

test('tasks of a removed service are deleted, others untouched', () => {
  const c = new Cluster(threeNodes(), [service('a', { replicas: 2 }), service('g', { mode: 'global' })]);
  c.converge();
  const gone = [...c.tasks.values()].filter((t) => t.serviceId === 'g').map((t) => t.id).sort();
  c.services.delete('g');
  const changes = c.converge();
  assert.deepEqual(changes, { put: [], delete: gone });
  assert.equal(c.tasks.size, 2);
});

test('fewest tasks first, across services; ties by tasks of the same service, then node id', () => {
  const c = new Cluster(threeNodes(), [service('a', { replicas: 2 })]);
  c.converge();
  assert.deepEqual(c.placement('a'), { 1: 'n1', 2: 'n2' });
  c.setService('b', { replicas: 1 });
  c.converge();
  assert.deepEqual(c.placement('b'), { 1: 'n3' }, 'the empty node, not the lowest id');

  // n1: a, n2: a, n3: b. A third 'a' replica: all have 1 task; n3 has none of 'a'.
  c.setService('a', { replicas: 3 });
  c.converge();
  assert.equal(c.of('a').find((t) => t.slot === 3)!.nodeId, 'n3');

  // Every node has 2 tasks, n1 and n2 hold 'a' only; a second 'b' replica goes to n1 (lowest id).
  c.setService('b', { replicas: 2 });
  c.converge();
  assert.equal(c.of('b').find((t) => t.slot === 2)!.nodeId, 'n1');
});

test('replicated placement counts global tasks and tasks placed earlier in the same pass', () => {
  const c = new Cluster([node('n1', { labels: { g: '1' } }), node('n2')],
    [service('g', { mode: 'global', constraints: ['node.labels.g==1'] }), service('s1'), service('s2'), service('s3')]);
  c.converge();
  // s1: n1 already runs g, so n2; s2: one task each, so the lowest id; s3: n1 now has two.
  assert.deepEqual(c.onNode('n1').map((t) => t.serviceId).sort(), ['g', 's2']);
  assert.deepEqual(c.onNode('n2').map((t) => t.serviceId).sort(), ['s1', 's3']);
});

test('never changes the state of a task that stays on its node', () => {
  const c = new Cluster([node('n1'), node('n2')], [service('s1', { replicas: 3 }), service('g', { mode: 'global' })]);
  c.converge();
  const states = ['ready', 'removed', 'failed', 'assigned', 'ready'] as const;
  [...c.tasks.keys()].sort().forEach((id, i) => {
    c.tasks.set(id, { ...c.tasks.get(id)!, state: states[i % states.length], message: i % 2 ? 'some report' : '' });
  });
  const snapshot = new Map(c.tasks);
  assert.deepEqual(c.converge(), { put: [], delete: [] });
  assert.deepEqual(c.tasks, snapshot);
});

test('normalizes: desiredState back to running; duplicate slots and global duplicates are removed', () => {
  const c = new Cluster([node('n1'), node('n2')], [service('s1', { replicas: 2 }), service('g', { mode: 'global' })]);
  c.converge();
  const [s1a] = c.of('s1');
  c.tasks.set(s1a.id, { ...s1a, desiredState: 'shutdown' });
  const dupSlot: TaskRecord = { ...s1a, id: 'zz-dup-slot', nodeId: 'n2' };
  const [g1] = c.of('g');
  const dupGlobal: TaskRecord = { ...g1, id: 'zz-dup-global' };
  c.tasks.set(dupSlot.id, dupSlot);
  c.tasks.set(dupGlobal.id, dupGlobal);
  const changes = c.converge();
  assert.deepEqual(changes.put, [{ ...s1a, desiredState: 'running' }]);
  assert.deepEqual([...changes.delete].sort(), ['zz-dup-global', 'zz-dup-slot']);
});

test('an invalid stored constraint places nothing (fail closed) and says why', () => {
  const c = new Cluster([node('n1')], [service('s1', { constraints: ['node.ip==1.2.3.4'] }), service('g', { mode: 'global', constraints: ['node.role==admin'] })]);
  c.converge();
  assert.deepEqual(c.of('g'), []);
  const [t] = c.of('s1');
  assert.equal(t.state, 'pending');
  assert.match(t.message, /^no suitable node: invalid constraint "node\.ip==1\.2\.3\.4"/);
});

test('a stored service whose name has a dot (an older manager\'s) is never placed: its tasks go pending or away, and say why', () => {
  const c = new Cluster([node('n1'), node('n2')], [service('web', { name: 'web', replicas: 2 })]);
  c.converge();
  // Stored before names were checked: a replicated `web.1` and a global `web.2`, already placed by an older manager.
  c.setService('r', { name: 'web.1', replicas: 2 });
  c.setService('g', { name: 'web.2', mode: 'global', replicas: 0 });
  c.tasks.set('old-r', { id: 'old-r', serviceId: 'r', serviceName: 'web.1', slot: 1, nodeId: 'n1', desiredState: 'running', state: 'ready', message: '', createdAtMs: 1, stateSinceMs: 1 });
  c.tasks.set('old-g', { id: 'old-g', serviceId: 'g', serviceName: 'web.2', slot: 0, forNodeId: 'n1', nodeId: 'n1', desiredState: 'running', state: 'ready', message: '', createdAtMs: 1, stateSinceMs: 1 });
  c.converge();
  assert.deepEqual(c.of('g'), [], 'no global task on any node');
  const pending = c.of('r');
  assert.deepEqual(pending.map((t) => [t.slot, t.nodeId, t.state]), [[1, '', 'pending'], [2, '', 'pending']]);
  assert.equal(pending[0].id, 'old-r', 'the placed task is taken off its node, keeping its id');
  for (const t of pending) assert.match(t.message, /^service name "web\.1" is not valid \(.*no '\.'.*\): not placed; remove the service and create it under a valid name$/);
  assert.deepEqual(c.of('web').map((t) => t.state), ['assigned', 'assigned'], 'the valid service is placed as before');
});

test('deterministic: the same input in another insertion order gives the same changes', () => {
  const nodes = [node('n3'), node('n1', { labels: { a: '1' } }), node('n2'), node('n4', { availability: 'drain' })];
  const services = [service('b', { replicas: 5 }), service('a', { replicas: 2, constraints: ['node.labels.a!=1'] }), service('g', { mode: 'global' })];
  const run = (ns: NodeRecord[], ss: ServiceRecord[]) => {
    let i = 0;
    return reconcile({
      services: new Map(ss.map((s) => [s.id, s])), tasks: new Map(), nodes: new Map(ns.map((n) => [n.id, n])),
      now: 5, newId: () => `id${i++}`,
    });
  };
  assert.deepEqual(run(nodes, services), run([...nodes].reverse(), [...services].reverse()));
});

test('pure: the input maps and records are not modified', () => {
  const c = new Cluster([node('n1'), node('n2', { state: 'down' })], [service('s1', { replicas: 3 }), service('g', { mode: 'global' })]);
  c.converge();
  c.markReady();
  c.setService('s1', { replicas: 1 });
  c.setNode('n1', { availability: 'drain' });
  c.setNode('n2', { state: 'ready' });
  const tasks = structuredClone(c.tasks);
  const nodes = structuredClone(c.nodes);
  const services = structuredClone(c.services);
  const changes = reconcile({ services: c.services, tasks: c.tasks, nodes: c.nodes, now: 1, newId: () => 'new' });
  assert.ok(changes.put.length > 0 && changes.delete.length > 0);
  assert.deepEqual(c.tasks, tasks);
  assert.deepEqual(c.nodes, nodes);
  assert.deepEqual(c.services, services);
});

test('scale: 1,000 nodes × 100 services converge quickly and spread evenly', () => {
  const nodes = Array.from({ length: 1000 }, (_, i) => node(`n${String(i).padStart(4, '0')}`, { labels: { zone: `z${i % 3}` } }));
  const services = Array.from({ length: 100 }, (_, i) => i % 10 === 0
    ? service(`s${i}`, { mode: 'global', constraints: ['node.labels.zone==z1'] })
    : service(`s${i}`, { replicas: 30 }));
  const c = new Cluster(nodes, services);
  const t0 = performance.now();
  c.step();
  const first = performance.now() - t0;
  assert.equal(c.tasks.size, 90 * 30 + 10 * 333);
  const count = new Map<string, number>();
  for (const t of c.tasks.values()) count.set(t.nodeId, (count.get(t.nodeId) ?? 0) + 1);
  const loads = nodes.filter((n) => n.labels.zone !== 'z1').map((n) => count.get(n.id) ?? 0);
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 1, `spread: ${Math.min(...loads)}..${Math.max(...loads)}`);
  assert.ok(nodes.filter((n) => n.labels.zone === 'z1').every((n) => count.get(n.id) === 10), 'z1 nodes (10 global tasks each) take no replicas');
  const t1 = performance.now();
  assert.deepEqual(c.step(), { put: [], delete: [] });
  const second = performance.now() - t1;
  assert.ok(first < 2000 && second < 2000, `took ${first.toFixed(0)} ms and ${second.toFixed(0)} ms`);
});


/** The view's indexes over the simulator's maps, as scopedInput reads them. */
function indexed(c: Cluster) {
  const tasksByNode = new Map<string, Set<string>>();
  const byService = new Map<string, TaskRecord[]>();
  for (const t of c.tasks.values()) {
    if (t.nodeId) tasksByNode.set(t.nodeId, (tasksByNode.get(t.nodeId) ?? new Set()).add(t.id));
    byService.set(t.serviceId, [...(byService.get(t.serviceId) ?? []), t]);
  }
  return { services: c.services, nodes: c.nodes, tasksByNode, tasksOfService: (id: string) => byService.get(id) ?? [] };
}

test('a pass over only the changed services gives exactly what a whole pass gives (seeded random changes)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rand = prng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const nodes = Array.from({ length: 6 }, (_, i) => node(`n${i}`, { labels: { zone: `z${i % 2}` }, availability: i === 5 ? 'pause' : 'active' }));
    const constraints = [[], [], ['node.labels.zone==z0'], ['node.labels.zone!=z0'], ['node.hostname==host-n3'], ['node.labels.zone==nowhere']];
    const c = new Cluster(nodes, Array.from({ length: 12 }, (_, i) => service(`s${String(i).padStart(2, '0')}`, {
      mode: i % 5 === 0 ? 'global' : 'replicated', replicas: 1 + (i % 4), constraints: pick(constraints),
    })));
    c.converge();
    let next = 100;
    let compared = 0;
    for (let round = 0; round < 150; round++) {
      const dirty = new Set<string>();
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const ids = [...c.services.keys()];
        const roll = rand();
        if (roll < 0.15 && ids.length > 1) {
          const id = pick(ids);
          c.services.delete(id);
          dirty.add(id);
        } else if (roll < 0.3) {
          const id = `s${next++}`;
          c.setService(id, { mode: rand() < 0.2 ? 'global' : 'replicated', replicas: Math.floor(rand() * 5), constraints: pick(constraints) });
          dirty.add(id);
        } else if (roll < 0.6) {
          const id = pick(ids);
          c.setService(id, { replicas: Math.floor(rand() * 6) });
          dirty.add(id);
        } else if (roll < 0.75) {
          const id = pick(ids);
          c.setService(id, { constraints: pick(constraints) });
          dirty.add(id);
        } else {
          // A node reports on a task: its service is dirty.
          const tasks = [...c.tasks.values()].filter((t) => t.nodeId);
          if (!tasks.length) continue;
          const t = pick(tasks);
          c.tasks.set(t.id, { ...t, state: pick(['ready', 'failed', 'removed'] as const) });
          dirty.add(t.serviceId);
        }
      }
      const ids = (from: number) => () => `new${from++}`;
      const whole = reconcile({ services: c.services, tasks: c.tasks, nodes: c.nodes, now: c.now + 1000, newId: ids(round * 1000) });
      const scoped = reconcile(scopedInput(indexed(c), dirty, c.now + 1000, ids(round * 1000)));
      assert.deepEqual(
        { put: scoped.put, delete: [...scoped.delete].sort() }, { put: whole.put, delete: [...whole.delete].sort() },
        `seed ${seed}, round ${round}: the scoped pass over ${[...dirty].join(',')} differs from the whole pass`,
      );
      compared += whole.put.length + whole.delete.length;
      c.converge();
      if (rand() < 0.1) {
        // A node change: the loop makes the next pass a whole one; here too.
        c.setNode(pick(nodes).id, { availability: pick(['active', 'drain', 'pause'] as const) });
        c.converge();
      }
    }
    assert.ok(compared > 100, `seed ${seed}: the rounds changed tasks (${compared} task changes compared)`);
  }
});
