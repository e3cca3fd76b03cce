import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SecretAssignment, TaskEntitlement } from './assignments.js';
import { SentAssignments } from './sent.js';

const secret = (id: string, version: number): SecretAssignment => ({ id, name: `n-${id}`, version, createdAtMs: 1 });

function entitlement(taskId: string, refs: Array<[string, number, string?]>): TaskEntitlement {
  const secrets = refs.map(([id, v, target]) => ({ secretId: id, secretName: `n-${id}`, version: v, target: target ?? 'f', uid: 0, gid: 0, mode: 0o400 }));
  const distinct = [...new Map(refs.map(([id, v]) => [`${id}@${v}`, secret(id, v)])).values()];
  return { task: { id: taskId, name: `svc.${taskId}`, serviceId: 'v', serviceName: 'svc', secrets }, secrets: distinct };
}

const keys = (xs: Array<{ id: string; version: number }>) => xs.map((s) => `${s.id}@${s.version}`);

/** diff() then commit(), as a session does once the message is written. */
function send(sent: SentAssignments, next: Array<[string, TaskEntitlement | undefined]>) {
  const d = sent.diff(new Map(next));
  sent.commit(d);
  return { added: keys(d.secretsAdded), changed: d.tasksChanged.map((t) => t.id), removed: d.tasksRemoved.map((t) => t.id), revoked: keys(d.secretsRemoved) };
}

test('a secret version shared by two tasks is sent once and revoked with the last of them', () => {
  const sent = new SentAssignments();
  assert.deepEqual(send(sent, [['t1', entitlement('t1', [['s', 1], ['s', 1, 'g']])], ['t2', entitlement('t2', [['s', 1]])]]),
    { added: ['s@1'], changed: ['t1', 't2'], removed: [], revoked: [] });
  assert.deepEqual(sent.tasksUsing('s', 1), ['t1', 't2']);
  assert.deepEqual(send(sent, [['t1', undefined]]), { added: [], changed: [], removed: ['t1'], revoked: [] });
  assert.deepEqual(sent.tasksUsing('s', 1), ['t2']);
  assert.deepEqual(send(sent, [['t2', undefined]]), { added: [], changed: [], removed: ['t2'], revoked: ['s@1'] });
  assert.deepEqual(sent.tasksUsing('s', 1), []);
  assert.equal(sent.tasks.size, 0);
});

test('a rotation moves the task to the new version; an unchanged task is not resent', () => {
  const sent = new SentAssignments();
  send(sent, [['t1', entitlement('t1', [['s', 1]])], ['t2', entitlement('t2', [['r', 1]])]]);
  assert.deepEqual(send(sent, [['t1', entitlement('t1', [['s', 2]])], ['t2', entitlement('t2', [['r', 1]])]]),
    { added: ['s@2'], changed: ['t1'], removed: [], revoked: ['s@1'] });
  // A field other than the version changes: the task is resent, its secrets stay.
  assert.deepEqual(send(sent, [['t1', entitlement('t1', [['s', 2, 'other']])]]), { added: [], changed: ['t1'], removed: [], revoked: [] });
  // One task drops a version while another picks it up, in one diff: nothing to add or revoke.
  assert.deepEqual(send(sent, [['t1', entitlement('t1', [['r', 1]])], ['t2', entitlement('t2', [['s', 2]])]]),
    { added: [], changed: ['t1', 't2'], removed: [], revoked: [] });
});

test('diff() alone changes nothing (a failed payload read recomputes from the same state)', () => {
  const sent = new SentAssignments();
  const next = new Map([['t1', entitlement('t1', [['s', 1]])]]);
  const first = sent.diff(next);
  const again = sent.diff(next);
  assert.deepEqual(keys(again.secretsAdded), keys(first.secretsAdded));
  assert.equal(sent.tasks.size, 0);
});
