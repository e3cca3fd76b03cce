import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceRecord, TaskRecord } from '../state/records.js';
import { serviceToProto, taskName, taskToProto } from './convert.js';

const task = (fields: Partial<TaskRecord>): TaskRecord => ({
  id: 't'.repeat(25), serviceId: 's'.repeat(25), serviceName: 'web', slot: 2, nodeId: '', desiredState: 'running',
  state: 'pending', message: 'no suitable node', createdAtMs: 1, stateSinceMs: 2, ...fields,
});

test('task names: service.slot, or service.node for a global service (even before it is placed)', () => {
  assert.equal(taskName(task({})), 'web.2');
  assert.equal(taskName(task({ slot: 0, forNodeId: 'n'.repeat(25) })), `web.${'n'.repeat(25)}`);
  assert.equal(taskName(task({ slot: 0, forNodeId: 'n'.repeat(25), nodeId: 'n'.repeat(25) })), `web.${'n'.repeat(25)}`);
  assert.deepEqual(taskToProto(task({ nodeId: 'x'.repeat(25), state: 'ready', message: '' })), {
    id: 't'.repeat(25), name: 'web.2', serviceId: 's'.repeat(25), serviceName: 'web', slot: 2, nodeId: 'x'.repeat(25),
    desiredState: 'running', state: 'ready', message: '', stateSinceMs: 2,
  });
});

test('services: a reference that follows the latest version is version 0 on the wire', () => {
  const s: ServiceRecord = {
    id: 'i'.repeat(25), name: 'web', mode: 'replicated', replicas: 3, constraints: ['node.role==worker'], labels: { a: 'b' },
    createdAtMs: 1, updatedAtMs: 2,
    secrets: [
      { secretId: 'a'.repeat(25), secretName: 'db', target: 'db', uid: 0, gid: 0, mode: 0o400 },
      { secretId: 'a'.repeat(25), secretName: 'db', version: 2, target: 'db2', uid: 1, gid: 2, mode: 0o440 },
    ],
  };
  const p = serviceToProto(s);
  assert.deepEqual(p.secrets?.map((r) => [r.target, r.version, r.mode]), [['db', 0, 0o400], ['db2', 2, 0o440]]);
  assert.equal(p.replicas, 3);
});
