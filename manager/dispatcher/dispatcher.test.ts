import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqliteStore } from '../store/sqlite.js';
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

test('early revocation: the REMOVE goes out before the txn commits, and is undone if the txn fails', async () => {
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
    const stream = new RecordingStream();
    const first = stream.next();
    await (dispatcher as unknown as { open(c: unknown, w: { nodeId: string; serial: string }): Promise<void> }).open(stream, { nodeId: 'n1', serial: '01' });
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
  } finally {
    dispatcher.stop();
    view.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
