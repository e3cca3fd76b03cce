// The Dispatcher end to end: a real `hush manager run` (short heartbeat period), test nodes that
// joined with real CSRs and hold real node certificates, speaking Dispatcher.Assignments over
// mutual TLS. Every assertion is on what the nodes were actually sent: which messages, in which
// order, with which sequence numbers, and which payload bytes (TestNode.received), so that least
// privilege is checked on the wire, not in the manager's state.
//
// Most tests share one manager: each uses its own nodes (own hostnames/labels) and services
// constrained to them, so they do not see each other's work. Global mode places on every node,
// so that test runs its own manager.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { distinctive } from './helpers/manager.js';
import { controlTlsClient, statusName, tlsCredentials, unary, unaryError, grpc } from './helpers/grpc.js';
import {
  arrival, describeChanges, everReceived, fence, flatten, sessionsClosed, startCluster, taskOf, type NodeJson, type TaskJson, type TestCluster,
} from './helpers/cluster.js';
import type { TestNode } from './helpers/node.js';
import { waitUntil } from '../common/testing/wait.js';

/** How long a node waits for what it must get (generous: the machine may be loaded; success is usually at once). */
const WAIT_MS = 30_000;

const key = (id: string, version: number) => `${id}@${version}`;
function assertStreamSane(node: TestNode, who: string): void {
  assert.ok(node.messages.length > 0, `${who}: no message`);
  assert.equal(node.messages[0].type, 'COMPLETE', `${who}: the first message is not COMPLETE`);
  assert.equal(node.messages[0].appliesTo, 0, `${who}: COMPLETE applies to 0`);
  assert.equal(node.messages.filter((m) => m.type === 'COMPLETE').length, 1, `${who}: one COMPLETE per stream`);
  assert.ok(node.sequenceIsContinuous(), `${who}: sequence numbers have a gap: ${JSON.stringify(node.messages.map((m) => [m.type, m.appliesTo, m.resultsIn]))}`);
  for (const m of node.messages) {
    // An INCREMENTAL without changes only announces the cluster's managers: it moves no version.
    if (m.type === 'INCREMENTAL' && !m.changes.length) assert.ok(m.resultsIn === m.appliesTo && m.managers.length > 0, `${who}: an INCREMENTAL without changes announces the managers and moves no version`);
    else assert.equal(m.resultsIn, m.appliesTo + 1, `${who}: results_in = applies_to + 1`);
  }
}


describe('dispatcher (shared manager)', () => {
  let c: TestCluster;
  before(async () => {
    c = await startCluster({ heartbeatPeriodMs: 1000 });
  });
  after(async () => {
    await c?.close();
  });

  /** Secret create; returns its id. */
  const secret = async (name: string, payload: string) => (await c.hush(['secret', 'create', name, '-'], payload)).trim();
  const ps = (service: string) => c.hushJson<TaskJson>(['service', 'ps', service]);

  test('least privilege: each node gets only the secrets its own tasks use, COMPLETE first, continuous sequence numbers', async () => {
    const a = await c.join('a');
    const b = await c.join('b');
    const pA = distinctive('payload-sA-');
    const pB = distinctive('payload-sB-');
    const sA = await secret('sA', pA);
    const sB = await secret('sB', pB);
    await c.hush(['service', 'create', '--name', 'sa', '--secret', 'sA', '--constraint', 'node.hostname==a']);
    await c.hush(['service', 'create', '--name', 'sb', '--secret', 'sB', '--constraint', 'node.hostname==b']);
    await a.until('sA@1 on a', () => a.secret(sA, 1)?.toString() === pA && taskOf(a, 'sa') !== undefined, WAIT_MS);
    await b.until('sB@1 on b', () => b.secret(sB, 1)?.toString() === pB && taskOf(b, 'sb') !== undefined, WAIT_MS);
    await fence(c, [[a, 0], [b, 0]]);

    assert.deepEqual(a.taskNames(), ['sa.1']);
    assert.deepEqual([...a.state.secrets.keys()], [key(sA, 1)]);
    assert.deepEqual(b.taskNames(), ['sb.1']);
    assert.deepEqual([...b.state.secrets.keys()], [key(sB, 1)]);
    assert.ok(!everReceived(a, pB), 'a was sent sB\'s payload');
    assert.ok(!everReceived(b, pA), 'b was sent sA\'s payload');
    // Nor anything else about the other's secret or service: not its id, not its task.
    assert.deepEqual(flatten(a.messages).filter((x) => x.id === sB || x.name.startsWith('sb')), []);
    assert.deepEqual(flatten(b.messages).filter((x) => x.id === sA || x.name.startsWith('sa')), []);
    // Exactly one payload each, the right one.
    assert.deepEqual(a.received.map(String), [pA]);
    assert.deepEqual(b.received.map(String), [pB]);
    // Secrets come before the tasks that use them.
    for (const [node, sid] of [[a, sA], [b, sB]] as const) {
      const ch = flatten(node.messages);
      const s = ch.findIndex((x) => x.kind === 'secret' && x.id === sid);
      const t = ch.findIndex((x) => x.kind === 'task');
      assert.ok(s >= 0 && t >= 0 && s < t, `secret before task: ${describeChanges(ch)}`);
    }
    assertStreamSane(a, 'a');
    assertStreamSane(b, 'b');

    // service rm: a gets REMOVE of the task, then of the secret; b gets nothing at all.
    const [aBefore, bBefore] = [a.messages.length, b.messages.length];
    const taskId = taskOf(a, 'sa')!;
    assert.equal((await c.hush(['service', 'rm', 'sa'])).trim(), 'sa');
    await a.until('sa removed from a', () => a.state.tasks.size === 0 && a.state.secrets.size === 0, WAIT_MS);
    const [{ changes: removed }, toB] = await fence(c, [[a, aBefore], [b, bBefore]]);
    assert.deepEqual(removed.map((x) => [x.type, x.action, x.kind, x.id, x.version]), [
      ['INCREMENTAL', 'REMOVE', 'task', taskId, 0],
      ['INCREMENTAL', 'REMOVE', 'secret', sA, 1],
    ], describeChanges(removed));
    assert.equal(toB.messages, 0, `b was sent something about sa: ${describeChanges(toB.changes)}`);
    assert.deepEqual(b.taskNames(), ['sb.1']);
    assertStreamSane(a, 'a');
    assertStreamSane(b, 'b');
    await c.hush(['service', 'rm', 'sb']);
    await b.until('sb removed from b', () => b.state.tasks.size === 0 && b.state.secrets.size === 0, WAIT_MS);
    a.close();
    b.close();
  });

  test('service update --secret-rm: the task is updated and only that secret is removed; nothing is re-sent', async () => {
    const n = await c.join('upd');
    const p1 = distinctive('payload-u1-');
    const p2 = distinctive('payload-u2-');
    const s1 = await secret('u1', p1);
    const s2 = await secret('u2', p2);
    await c.hush(['service', 'create', '--name', 'su', '--secret', 'u1', '--secret', 'u2', '--constraint', 'node.hostname==upd']);
    await n.until('u1 and u2', () => n.secret(s1, 1) !== undefined && n.secret(s2, 1) !== undefined && n.state.tasks.size === 1, WAIT_MS);
    const taskId = taskOf(n, 'su')!;
    const mark = n.messages.length;
    const receivedBefore = n.received.length;
    await c.hush(['service', 'update', 'su', '--secret-rm', 'u1']);
    await n.until('u1 removed', () => n.secret(s1, 1) === undefined, WAIT_MS);
    const [{ changes }] = await fence(c, [[n, mark]]);
    assert.deepEqual(changes.map((x) => [x.action, x.kind, x.id, x.version]), [
      ['UPDATE', 'task', taskId, 0],
      ['REMOVE', 'secret', s1, 1],
    ], describeChanges(changes));
    assert.deepEqual(changes[0].refs, [key(s2, 1)]);
    assert.equal(n.received.length, receivedBefore, 'a payload was sent again');
    assert.equal(n.secret(s2, 1)?.toString(), p2);
    assert.deepEqual(n.state.tasks.get(taskId)?.secrets.map((r) => r.secretId), [s2]);
    assertStreamSane(n, 'upd');
    await c.hush(['service', 'rm', 'su']);
    await n.until('su gone', () => n.state.tasks.size === 0 && n.state.secrets.size === 0, WAIT_MS);
    n.close();
  });

  test('secret update: nodes following the latest version get it (old version removed); a node pinned to @1 gets nothing', async (t) => {
    const fa = await c.join('follow-a');
    const fb = await c.join('follow-b');
    const pin = await c.join('pinned');
    const both = await c.join('both'); // one task following the latest, one pinned to @1
    const v1 = distinctive('payload-S-v1-');
    const v2 = distinctive('payload-S-v2-');
    const s = await secret('S', v1);
    await c.hush(['service', 'create', '--name', 'fa', '--secret', 'S', '--constraint', 'node.hostname==follow-a']);
    await c.hush(['service', 'create', '--name', 'fb', '--secret', 'S', '--constraint', 'node.hostname==follow-b']);
    await c.hush(['service', 'create', '--name', 'sp', '--secret', 'source=S@1,target=x', '--constraint', 'node.hostname==pinned']);
    await c.hush(['service', 'create', '--name', 'bf', '--secret', 'S', '--constraint', 'node.hostname==both']);
    await c.hush(['service', 'create', '--name', 'bp', '--secret', 'source=S@1,target=pinned-s', '--constraint', 'node.hostname==both']);
    for (const n of [fa, fb, pin]) await n.until('S@1', () => n.secret(s, 1)?.toString() === v1 && n.state.tasks.size === 1, WAIT_MS);
    await both.until('S@1 and two tasks', () => both.secret(s, 1)?.toString() === v1 && both.state.tasks.size === 2, WAIT_MS);
    assert.equal(both.received.length, 1, 'one payload for two tasks using the same version');
    const marks = new Map([fa, fb, pin, both].map((n) => [n, { messages: n.messages.length, received: n.received.length }]));

    const t0 = performance.now();
    const arrivals = [fa, fb].map((n) => arrival(n, 'S@2', () => n.secret(s, 2) !== undefined && n.secret(s, 1) === undefined, WAIT_MS));
    arrivals.push(arrival(both, 'S@2 next to S@1', () => both.secret(s, 2) !== undefined, WAIT_MS));
    await c.hush(['secret', 'update', 'S', '-'], v2);
    const times = await Promise.all(arrivals);
    const [toFa, toFb, toPin, toBoth] = await fence(c, [fa, fb, pin, both].map((n) => [n, marks.get(n)!.messages]));

    for (const [n, { changes }] of [[fa, toFa], [fb, toFb]] as const) {
      const taskId = [...n.state.tasks.keys()][0];
      assert.deepEqual(changes.map((x) => [x.action, x.kind, x.id, x.version]), [
        ['UPDATE', 'secret', s, 2],
        ['UPDATE', 'task', taskId, 0],
        ['REMOVE', 'secret', s, 1],
      ], describeChanges(changes));
      assert.equal(changes[0].data.toString(), v2);
      assert.deepEqual(changes[1].refs, [key(s, 2)]);
      assert.deepEqual([...n.state.secrets.keys()], [key(s, 2)]);
      assertStreamSane(n, n === fa ? 'follow-a' : 'follow-b');
    }
    assert.equal(toPin.messages, 0, `the pinned node was sent: ${describeChanges(toPin.changes)}`);
    assert.equal(pin.received.length, marks.get(pin)!.received);
    assert.ok(!everReceived(pin, v2), 'the pinned node got version 2');
    assert.deepEqual([...pin.state.secrets.keys()], [key(s, 1)]);
    assert.equal(pin.state.tasks.size, 1);
    assert.deepEqual([...pin.state.tasks.values()][0].secrets.map((r) => [r.version, r.target]), [[1, 'x']]);
    assertStreamSane(pin, 'pinned');
    // The node with both: v2 arrives for the following task; v1 stays for the pinned one.
    const bothChanges = toBoth.changes;
    const bfTask = taskOf(both, 'bf')!;
    assert.deepEqual(bothChanges.map((x) => [x.action, x.kind, x.id, x.version]), [
      ['UPDATE', 'secret', s, 2],
      ['UPDATE', 'task', bfTask, 0],
    ], describeChanges(bothChanges));
    assert.equal(bothChanges[0].data.toString(), v2);
    assert.deepEqual([...both.state.secrets.keys()].sort(), [key(s, 1), key(s, 2)].sort());
    assert.deepEqual(both.state.tasks.get(taskOf(both, 'bp')!)?.secrets.map((r) => [r.version, r.target]), [[1, 'pinned-s']]);
    assertStreamSane(both, 'both');
    // Timed from before the CLI call (which includes starting the CLI process).
    t.diagnostic(`secret update → new version at the 3 nodes following the latest: ${times.map((x) => (x - t0).toFixed(0)).join(', ')} ms from starting \`hush secret update\``);
    for (const svc of ['fa', 'fb', 'sp', 'bf', 'bp']) await c.hush(['service', 'rm', svc]);
    for (const n of [fa, fb, pin, both]) {
      await n.until('empty', () => n.state.tasks.size === 0 && n.state.secrets.size === 0, WAIT_MS);
      n.close();
    }
  });

  /** Two nodes with the same label, a replicated service with one task there; which node holds it. */
  const pairWithTask = async (group: string) => {
    const n1 = await c.join(`${group}-1`, { grp: group });
    const n2 = await c.join(`${group}-2`, { grp: group });
    const payload = distinctive(`payload-${group}-`);
    const sid = await secret(`sec-${group}`, payload);
    await c.hush(['service', 'create', '--name', `svc-${group}`, '--replicas', '1', '--secret', `sec-${group}`, '--constraint', `node.labels.grp==${group}`]);
    const holds = (n: TestNode) => n.state.tasks.size === 1 && n.secret(sid, 1)?.toString() === payload;
    await waitUntil(`a ${group} node holds the task`, () => holds(n1) || holds(n2), WAIT_MS, { errors: 'fail' });
    const [holder, other] = holds(n1) ? [n1, n2] : [n2, n1];
    const otherHost = holds(n1) ? `${group}-2` : `${group}-1`;
    const taskId = [...holder.state.tasks.keys()][0];
    return { holder, other, otherHost, sid, payload, taskId, service: `svc-${group}` };
  };

  /** The holder loses task and secret (REMOVE task then REMOVE secret); the other gets both, same task id. */
  const assertMoved = async (p: Awaited<ReturnType<typeof pairWithTask>>, holderMark: number | undefined, otherMark: number) => {
    const { holder, other, sid, payload, taskId } = p;
    await other.until('the task moved here', () => other.state.tasks.has(taskId) && other.secret(sid, 1)?.toString() === payload, WAIT_MS);
    const got = flatten(other.messages, otherMark);
    assert.deepEqual(got.map((x) => [x.action, x.kind, x.id, x.version]), [
      ['UPDATE', 'secret', sid, 1],
      ['UPDATE', 'task', taskId, 0],
    ], describeChanges(got));
    if (holderMark !== undefined) {
      await holder.until('the task left', () => holder.state.tasks.size === 0 && holder.state.secrets.size === 0, WAIT_MS);
      const lost = flatten(holder.messages, holderMark);
      assert.deepEqual(lost.map((x) => [x.action, x.kind, x.id, x.version]), [
        ['REMOVE', 'task', taskId, 0],
        ['REMOVE', 'secret', sid, 1],
      ], describeChanges(lost));
    }
    assertStreamSane(other, 'other');
  };

  test('drain: the drained node gets removes, the replicated task moves (same id) to the other node', async () => {
    const p = await pairWithTask('drain');
    const [hm, om] = [p.holder.messages.length, p.other.messages.length];
    assert.equal((await c.hush(['node', 'update', p.holder.id, '--availability', 'drain'])).trim(), p.holder.id);
    await assertMoved(p, hm, om);
    assertStreamSane(p.holder, 'drained');
    const tasks = await ps(p.service);
    assert.deepEqual(tasks.map((t) => [t.id, t.nodeId, t.desiredState]), [[p.taskId, p.other.id, 'running']]);
    await c.hush(['service', 'rm', p.service]);
    p.holder.close();
    p.other.close();
  });

  test('missed heartbeats: the node is marked down and its task is rescheduled (same id) to the other node', async (t) => {
    const p = await pairWithTask('hb');
    const [hm, om] = [p.holder.messages.length, p.other.messages.length];
    const t0 = performance.now();
    p.holder.stopHeartbeats();
    const down = await waitUntil('node ls shows the node down', async () => {
      const nodes = await c.hushJson<NodeJson>(['node', 'ls']);
      return nodes.find((n) => n.id === p.holder.id)?.state === 'down' ? nodes : undefined;
    }, WAIT_MS, { errors: 'fail', intervalMs: 100 });
    const tDown = performance.now() - t0;
    assert.equal(down.find((n) => n.id === p.other.id)?.state, 'ready');
    // Its stream is still open: it is told to drop the task and secret too.
    await assertMoved(p, hm, om);
    const tasks = await ps(p.service);
    assert.deepEqual(tasks.map((x) => [x.id, x.node, x.nodeId]), [[p.taskId, p.otherHost, p.other.id]]);
    t.diagnostic(`heartbeats stopped → node ls shows down after ${tDown.toFixed(0)} ms (period ${c.heartbeatPeriodMs} ms, down after 3 missed)`);
    await c.hush(['service', 'rm', p.service]);
    p.holder.close();
    p.other.close();
  });

  test('a manager held still (SIGSTOP) past the heartbeat grace does not mark its heartbeating nodes down when it resumes', async () => {
    const p = await pairWithTask('stall');
    const hm = p.holder.messages.length;
    const downsBefore = c.run.logs.filter((l) => l.msg === 'node down: missed heartbeats').length;
    const pid = c.run.proc.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      // Heartbeats queue unread in the manager's sockets: wait until they span more than the grace
      // (3 missed periods), the oldest still within its 5 s deadline.
      await waitUntil('4 heartbeats unanswered', () => p.holder.heartbeatsInFlight >= 4, WAIT_MS, { intervalMs: 50 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitUntil('the paused heartbeats answered', () => p.holder.heartbeatsInFlight === 0 && p.other.heartbeatsInFlight === 0, WAIT_MS);
    // A node marked down would lose its task: the orchestrator places it elsewhere at once.
    const tasks = await ps(p.service);
    assert.deepEqual(tasks.map((x) => x.nodeId), [p.holder.id], 'the task stayed on its node');
    assert.equal(await c.nodeState(p.holder.id), 'ready');
    assert.deepEqual(c.run.logs.filter((l) => l.msg === 'node down: missed heartbeats').slice(downsBefore), [], 'no node was marked down');
    assert.deepEqual(flatten(p.holder.messages, hm), [], 'the node was told nothing');
    await c.hush(['service', 'rm', p.service]);
    p.holder.close();
    p.other.close();
  });

  test('node rm --force: the stream ends with PERMISSION_DENIED at once, the certificate is refused, the task is rescheduled', async (t) => {
    const p = await pairWithTask('rm');
    const om = p.other.messages.length;
    const hm = p.holder.messages.length;
    const t0 = performance.now();
    const ended = arrival(p.holder, 'the stream ended', () => p.holder.streamStatus !== undefined, WAIT_MS);
    await c.hush(['node', 'rm', p.holder.id, '--force']);
    const tReturned = performance.now();
    const tEnded = await ended;
    assert.equal(statusName(p.holder.streamStatus!.code), 'PERMISSION_DENIED', p.holder.streamStatus!.details);
    assert.match(p.holder.streamStatus!.details, /removed|revoked/);
    // "At once": no later than the CLI's return plus a little (not a heartbeat timeout, not a poll).
    assert.ok(tEnded - tReturned < 500, `stream ended ${(tEnded - tReturned).toFixed(0)} ms after node rm returned`);
    const err = await p.holder.heartbeat().then(() => undefined, (e: grpc.ServiceError) => e);
    assert.ok(err, 'a removed node\'s heartbeat succeeded');
    assert.equal(statusName(err.code), 'PERMISSION_DENIED', err.details);
    const err2 = await p.holder.reportTask(p.taskId, 'ready').then(() => undefined, (e: grpc.ServiceError) => e);
    assert.equal(statusName(err2!.code), 'PERMISSION_DENIED', err2?.details);
    await assertMoved(p, undefined, om);
    // Nothing was sent to the removed node after its stream was cut.
    assert.deepEqual(flatten(p.holder.messages, hm), []);
    assert.ok(!(await c.hushJson<NodeJson>(['node', 'ls'])).some((n) => n.id === p.holder.id));
    t.diagnostic(`node rm --force: stream ended ${(tEnded - t0).toFixed(0)} ms after starting the CLI, ${(tEnded - tReturned).toFixed(0)} ms after it returned`);
    await c.hush(['service', 'rm', p.service]);
    p.holder.close();
    p.other.close();
  });

  test('service ps shows the task\'s node and state; READY reported by the node shows in ps; a worker certificate cannot call Control', async () => {
    const n = await c.join('ps-a');
    await secret('ps-secret', distinctive());
    await c.hush(['service', 'create', '--name', 'sps', '--secret', 'ps-secret', '--constraint', 'node.hostname==ps-a']);
    await n.until('the task', () => n.state.tasks.size === 1, WAIT_MS);
    const taskId = [...n.state.tasks.keys()][0];
    let [task] = await ps('sps');
    assert.deepEqual([task.id, task.name, task.nodeId, task.node, task.desiredState, task.state], [taskId, 'sps.1', n.id, 'ps-a', 'running', 'assigned']);
    await n.reportTask(taskId, 'ready');
    [task] = await ps('sps');
    assert.deepEqual([task.id, task.node, task.state], [taskId, 'ps-a', 'ready']);
    // A node may not report on a task that is not its own (silently ignored).
    const stranger = await c.join('ps-b');
    await stranger.reportTask(taskId, 'failed');
    [task] = await ps('sps');
    assert.equal(task.state, 'ready');
    // The state is not part of what the node is sent: nothing new arrived.
    assertStreamSane(n, 'ps-a');

    // A worker certificate on the TLS port: Control is refused.
    const creds = tlsCredentials(n.creds.caPem, n.creds.keyPem, n.creds.certPem);
    const ctl = controlTlsClient(c.run.port!, creds);
    try {
      for (const [method, req] of [['ListSecrets', {}], ['ListServices', {}], ['RemoveService', { ref: 'sps' }], ['GetJoinToken', { role: 'manager' }]] as const) {
        const e = await unaryError(ctl, method, req);
        assert.equal(statusName(e.code), 'PERMISSION_DENIED', `${method}: ${e.details}`);
      }
    } finally {
      ctl.close();
    }
    assert.equal((await ps('sps')).length, 1);
    await c.hush(['service', 'rm', 'sps']);
    n.close();
    stranger.close();
  });

  test('reconnect: a fresh COMPLETE reflects a service removed while the node was disconnected', async () => {
    const n = await c.join('rc');
    const pk = distinctive('payload-keep-');
    const pg = distinctive('payload-gone-');
    const sk = await secret('keep-s', pk);
    const sg = await secret('gone-s', pg);
    await c.hush(['service', 'create', '--name', 'keep', '--secret', 'keep-s', '--constraint', 'node.hostname==rc']);
    await c.hush(['service', 'create', '--name', 'gone', '--secret', 'gone-s', '--constraint', 'node.hostname==rc']);
    await n.until('both', () => n.state.tasks.size === 2 && n.secret(sk, 1) !== undefined && n.secret(sg, 1) !== undefined, WAIT_MS);
    const keepTask = taskOf(n, 'keep')!;
    const closedBefore = sessionsClosed(c, n);
    n.closeStream(); // heartbeats go on: the node stays ready, its tasks stay
    await waitUntil('the manager to close the node\'s session', () => sessionsClosed(c, n) > closedBefore, WAIT_MS);
    await c.hush(['service', 'rm', 'gone']);
    const mark = n.messages.length;
    const rec = n.received.length;
    n.open();
    await n.until('a fresh COMPLETE', () => n.messages.length > mark, WAIT_MS);
    const [sinceReconnect] = await fence(c, [[n, mark]]);
    const fresh = n.messages.slice(mark, mark + sinceReconnect.messages);
    assert.equal(fresh[0].type, 'COMPLETE');
    assert.equal(fresh[0].appliesTo, 0);
    assert.equal(fresh.length, 1, `only the COMPLETE: ${describeChanges(sinceReconnect.changes)}`);
    const changes = flatten(fresh);
    assert.deepEqual(changes.map((x) => [x.action, x.kind, x.id, x.version]).sort(), [
      ['UPDATE', 'secret', sk, 1],
      ['UPDATE', 'task', keepTask, 0],
    ].sort(), describeChanges(changes));
    assert.deepEqual(n.received.slice(rec).map(String), [pk], 'the removed service\'s secret was sent again');
    assert.deepEqual(n.taskNames(), ['keep.1']);
    assert.ok(n.sequenceIsContinuous());
    await c.hush(['service', 'rm', 'keep']);
    n.close();
  });

  test('no fixed debounce: time from service rm returning to the REMOVE arriving', async (t) => {
    const n = await c.join('lat');
    const sid = await secret('lat-s', distinctive());
    const viaGrpc: number[] = [];
    const viaCli: number[] = [];
    const fromIssue: number[] = [];
    for (let i = 0; i < 13; i++) {
      const name = `lat${i}`;
      await unary(c.control, 'CreateService', { name, secrets: [{ secretName: 'lat-s' }], constraints: ['node.hostname==lat'] });
      await n.until(`${name} arrived`, () => n.state.tasks.size === 1 && n.secret(sid, 1) !== undefined, WAIT_MS);
      const removed = arrival(n, `${name} removed`, () => n.state.tasks.size === 0 && n.secret(sid, 1) === undefined, WAIT_MS);
      if (i < 3) {
        await c.hush(['service', 'rm', name]);
        viaCli.push((await removed) - performance.now());
      } else {
        const issued = performance.now();
        await unary(c.control, 'RemoveService', { ref: name });
        const t = performance.now();
        const at = await removed;
        viaGrpc.push(at - t);
        fromIssue.push(at - issued);
      }
    }
    // viaCli: negative = arrived before the CLI process had exited.
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
    t.diagnostic(`REMOVE after RemoveService returned (gRPC, ms; < 0: the REMOVE reached the node before the answer reached the caller): ${fmt(viaGrpc)}; sorted median ${[...viaGrpc].sort((a, b) => a - b)[Math.floor(viaGrpc.length / 2)].toFixed(1)}`);
    t.diagnostic(`REMOVE after RemoveService was issued (gRPC, ms): ${fmt(fromIssue)}`);
    t.diagnostic(`REMOVE vs \`hush service rm\` returning (ms, < 0: before the CLI exited): ${fmt(viaCli)}`);
    assert.ok(Math.max(...fromIssue) < 1000, 'a REMOVE took a second or more');
    assertStreamSane(n, 'lat');
    n.close();
  });
});

test('global mode: one task per ready node; a node that joins later gets its own', async (t) => {
  const c = await startCluster({ heartbeatPeriodMs: 1000 });
  try {
    const g1 = await c.join('g1');
    const g2 = await c.join('g2');
    const idle = await c.join('g-idle', {}, { connect: false }); // joined, never connected: not ready
    const payload = distinctive('payload-global-');
    const sid = (await c.hush(['secret', 'create', 'gs', '-'], payload)).trim();
    await c.hush(['service', 'create', '--name', 'glob', '--mode', 'global', '--secret', 'gs']);
    for (const n of [g1, g2]) await n.until('the global task', () => n.state.tasks.size === 1 && n.secret(sid, 1)?.toString() === payload, WAIT_MS);
    const ps = () => c.hushJson<TaskJson>(['service', 'ps', 'glob']);
    let tasks = await ps();
    assert.deepEqual(tasks.map((x) => x.node).sort(), ['g1', 'g2']);
    // ps names a global task service.NODE-ID; on the node its directory is just the service's name.
    assert.ok(tasks.every((x) => x.name === `glob.${x.nodeId}` && x.slot === 0 && x.desiredState === 'running'), JSON.stringify(tasks));
    for (const n of [g1, g2]) {
      assert.deepEqual(n.taskNames(), ['glob']);
      assert.equal([...n.state.tasks.keys()][0], tasks.find((x) => x.nodeId === n.id)!.id);
    }
    assert.notEqual(await c.nodeState(idle.id), 'ready');

    const marks = [g1.messages.length, g2.messages.length];
    const g3 = await c.join('g3');
    await g3.until('its global task', () => g3.state.tasks.size === 1 && g3.secret(sid, 1)?.toString() === payload, WAIT_MS);
    const [toG1, toG2] = await fence(c, [[g1, marks[0]], [g2, marks[1]]]);
    tasks = await ps();
    assert.deepEqual(tasks.map((x) => x.node).sort(), ['g1', 'g2', 'g3']);
    assert.equal(new Set(tasks.map((x) => x.id)).size, 3);
    assert.equal(g3.state.tasks.keys().next().value, tasks.find((x) => x.node === 'g3')!.id);
    assert.deepEqual([toG1.messages, toG2.messages], [0, 0], `the other nodes were sent something when g3 joined: ${describeChanges([...toG1.changes, ...toG2.changes])}`);
    for (const [n, name] of [[g1, 'g1'], [g2, 'g2'], [g3, 'g3']] as const) assertStreamSane(n, name);

    // Draining a node takes its global task (and the secret) away from it, and only from it.
    const [g1Mark, g2Mark, g3Mark] = [g1.messages.length, g2.messages.length, g3.messages.length];
    const g3Task = [...g3.state.tasks.keys()][0];
    await c.hush(['node', 'update', 'g3', '--availability', 'drain']);
    await g3.until('the global task removed', () => g3.state.tasks.size === 0 && g3.state.secrets.size === 0, WAIT_MS);
    const [drainedG1, drainedG2] = await fence(c, [[g1, g1Mark], [g2, g2Mark]]);
    assert.deepEqual([drainedG1.messages, drainedG2.messages], [0, 0], `the other nodes were sent something when g3 was drained: ${describeChanges([...drainedG1.changes, ...drainedG2.changes])}`);
    assert.deepEqual((await ps()).map((x) => x.node).sort(), ['g1', 'g2']);
    // A drained node takes no fence: making it active again is g3's. Its new global task arrives after
    // anything the drain sent it.
    await c.hush(['node', 'update', 'g3', '--availability', 'active']);
    await g3.until('a new global task', () => g3.state.tasks.size === 1 && g3.secret(sid, 1) !== undefined, WAIT_MS);
    const sinceDrain = flatten(g3.messages, g3Mark);
    const back = sinceDrain.findIndex((x) => x.action === 'UPDATE');
    assert.deepEqual(sinceDrain.slice(0, back).map((x) => [x.action, x.kind, x.id]), [['REMOVE', 'task', g3Task], ['REMOVE', 'secret', sid]], describeChanges(sinceDrain));
    assert.deepEqual(sinceDrain.slice(back).map((x) => [x.action, x.kind]).sort(), [['UPDATE', 'secret'], ['UPDATE', 'task']], describeChanges(sinceDrain));
    assert.ok(sinceDrain[back].message > sinceDrain[back - 1].message, 'the new task came in its own message, after the removes');
    t.diagnostic(`global: ${tasks.length} tasks on ${tasks.map((x) => x.node).sort().join(', ')}; g-idle (${await c.nodeState(idle.id)}) has none`);
  } finally {
    await c.close();
  }
});
