import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { ClusterView } from '../state/view.js';
import { NodeRegistry } from '../nodes/registry.js';
import { encode, keys, type NodeRecord, type SecretRecord, type ServiceRecord, type TaskRecord } from '../state/records.js';
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import { Dispatcher } from './dispatcher.js';

/** Stands in for a grpc-js server stream: records what the session writes. */
class RecordingStream extends EventEmitter {
  readonly messages: AssignmentsMessage[] = [];
  cancelled = false;
  write(m: AssignmentsMessage): boolean {
    this.messages.push(m);
    this.emit('written');
    return true;
  }
  next(): Promise<AssignmentsMessage> {
    const have = this.messages.length;
    return new Promise((resolve) => {
      const check = () => { if (this.messages.length > have) { this.off('written', check); resolve(this.messages[have]); } };
      this.on('written', check);
    });
  }
}

const summary = (m: AssignmentsMessage) => (m.changes ?? []).map((c) => `${c.action} ${c.assignment?.task ? `task ${c.assignment.task.id}` : `secret ${c.assignment?.secret?.id}@${c.assignment?.secret?.version}`}`);

type Open = { open(c: unknown, w: { nodeId: string; serial: string }): Promise<void> };

/** A dispatcher over a real store holding node n1 with task t1 (service web, secret s1); closed after `run`. */
async function withDispatcher(run: (d: { dispatcher: Dispatcher; store: Store; view: ClusterView; open: (s: RecordingStream) => Promise<void> }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hush-dispatcher-'));
  const store = openSqliteStore(join(dir, 'm.db'));
  const view = await ClusterView.open(store, (e) => { throw e; });
  const dispatcher = new Dispatcher(store, view, new NodeRegistry(store), async () => Buffer.from('payload'), pino({ level: 'silent' }), { periodMs: 60_000, missed: 3 });
  try {
    const now = Date.now();
    const node: NodeRecord = { id: 'n1', role: 'worker', hostname: 'a', labels: {}, certSerial: '01', certNotAfterMs: now + 1e9, state: 'ready', availability: 'active', createdAtMs: now };
    const secret: SecretRecord = { id: 's1', name: 's', labels: {}, createdAtMs: now, updatedAtMs: now, versions: [{ version: 1, createdAtMs: now, size: 7 }] };
    const service: ServiceRecord = { id: 'v1', name: 'web', mode: 'replicated', replicas: 1, secrets: [{ secretId: 's1', secretName: 's', target: 's', uid: 0, gid: 0, mode: 0o400 }], constraints: [], labels: {}, createdAtMs: now, updatedAtMs: now };
    const task: TaskRecord = { id: 't1', serviceId: 'v1', serviceName: 'web', slot: 1, nodeId: 'n1', desiredState: 'running', state: 'assigned', message: '', createdAtMs: now, stateSinceMs: now };
    const r = await store.txn([], [
      { type: 'put', key: keys.node('n1'), value: encode(node) }, { type: 'put', key: keys.secret('s1'), value: encode(secret) },
      { type: 'put', key: keys.service('v1'), value: encode(service) }, { type: 'put', key: keys.task('t1'), value: encode(task) },
    ]);
    await view.waitFor(r.revision);
    dispatcher.start();
    const open = (stream: RecordingStream) => (dispatcher as unknown as Open).open(stream, { nodeId: 'n1', serial: '01' });
    await run({ dispatcher, store, view, open });
  } finally {
    dispatcher.stop();
    view.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('early revocation: the REMOVE goes out before the txn commits, and is undone if the txn fails', async () => {
  await withDispatcher(async ({ dispatcher, open }) => {
    const stream = new RecordingStream();
    const first = stream.next();
    await open(stream);
    assert.deepEqual(summary(await first), ['UPDATE secret s1@1', 'UPDATE task t1']);

    // The REMOVE is written synchronously-enough: before a commit scheduled now could run.
    const removed = stream.next();
    const undo = dispatcher.revokeEarly(['t1']);
    let committedBeforeRemove = false;
    setImmediate(() => { committedBeforeRemove = stream.messages.length < 2; });
    assert.deepEqual(summary(await removed), ['REMOVE task t1', 'REMOVE secret s1@1']);
    assert.equal(committedBeforeRemove, false, 'the REMOVE was written before the next tick');

    // The txn "failed": the task is still in the view, so it is offered again.
    const again = stream.next();
    undo();
    assert.deepEqual(summary(await again), ['UPDATE secret s1@1', 'UPDATE task t1']);
  });
});

test('publishManagers: a stream gets the set in its first message, and a message without changes whenever it changes', async () => {
  await withDispatcher(async ({ dispatcher, open }) => {
    const seq = (m: AssignmentsMessage) => [m.type, Number(m.appliesTo), Number(m.resultsIn)];
    // Before the manager publishes any set: nothing is announced.
    const a = new RecordingStream();
    const aFirst = a.next();
    await open(a);
    assert.deepEqual(seq(await aFirst), ['COMPLETE', 0, 1]);
    assert.equal((await aFirst).managers, undefined, 'no set before publishManagers');

    // A set (unsorted, a duplicate, an entry that is not HOST:PORT) reaches the open stream at once,
    // in an INCREMENTAL without changes that moves no version.
    let next = a.next();
    dispatcher.publishManagers(['m2:4242', 'm1:4242', 'm1:4242', 'not an address']);
    let m = await next;
    assert.deepEqual(seq(m), ['INCREMENTAL', 1, 1]);
    assert.deepEqual(m.changes, []);
    assert.deepEqual(m.managers, ['m1:4242', 'm2:4242']);

    // The same set again is no news: the next message is the next real change, without a set.
    dispatcher.publishManagers(['m1:4242', 'm2:4242', 'm2:4242']);
    next = a.next();
    const undo = dispatcher.revokeEarly(['t1']);
    m = await next;
    assert.deepEqual([seq(m), summary(m), m.managers], [['INCREMENTAL', 1, 2], ['REMOVE task t1', 'REMOVE secret s1@1'], undefined]);
    assert.equal(a.messages.length, 3, 'nothing was sent for the unchanged set');

    // A new stream has the set in its COMPLETE.
    const b = new RecordingStream();
    const bFirst = b.next();
    await open(b);
    assert.deepEqual([seq(await bFirst), (await bFirst).managers], [['COMPLETE', 0, 1], ['m1:4242', 'm2:4242']]);

    // A manager left and another joined: every open stream is told, each at its own version.
    const [aNext, bNext] = [a.next(), b.next()];
    dispatcher.publishManagers(['m3:4242', 'm1:4242']);
    assert.deepEqual([seq(await aNext), (await aNext).managers], [['INCREMENTAL', 2, 2], ['m1:4242', 'm3:4242']]);
    assert.deepEqual([seq(await bNext), (await bNext).managers], [['INCREMENTAL', 1, 1], ['m1:4242', 'm3:4242']]);

    // An empty set is no news either; the sequence goes on from where it was.
    dispatcher.publishManagers([]);
    next = a.next();
    undo();
    m = await next;
    assert.deepEqual([seq(m), summary(m), m.managers], [['INCREMENTAL', 2, 3], ['UPDATE secret s1@1', 'UPDATE task t1'], undefined]);
    assert.equal(a.messages.length, 5);
  });
});
