import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AssignmentsMessage } from '../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentsMessage__Output } from '../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentChange } from '../proto/gen/hush/v1/AssignmentChange.js';
import { PartBuffer } from '../agent/parts.js';
import { splitMessage } from '../manager/dispatcher/parts.js';

const MiB = 1024 * 1024;
const secret = (i: number, bytes: number): AssignmentChange => ({
  action: 'UPDATE', assignment: { secret: { id: `s${i}`, name: `n${i}`, version: 1, data: Buffer.alloc(bytes, i), createdAtMs: 1 } },
});
const taskChange = (i: number): AssignmentChange => ({
  action: 'UPDATE', assignment: { task: { id: `t${i}`, name: `svc.${i}`, serviceId: 'svc', serviceName: 'svc', secrets: [] } },
});
const message = (changes: AssignmentChange[]): AssignmentsMessage => ({ type: 'COMPLETE', appliesTo: 0, resultsIn: 1, changes });
const payloadBytes = (m: AssignmentsMessage) => (m.changes ?? []).reduce((n, c) => n + ((c.assignment?.secret?.data as Buffer | undefined)?.length ?? 0), 0);

test('a small message is sent whole, as one part that is not partial', () => {
  const m = message([secret(1, 100), taskChange(1)]);
  const parts = splitMessage(m);
  assert.equal(parts.length, 1);
  assert.deepEqual(parts[0], { ...m, partial: false });
});

test('a large message is split in order into parts under the budget, all but the last partial', () => {
  const changes = [...Array.from({ length: 20 }, (_, i) => secret(i, MiB)), taskChange(1), taskChange(2)];
  const m = message(changes);
  const parts = splitMessage(m, 4 * MiB);
  assert.ok(parts.length >= 5, `${parts.length} parts`);
  for (const p of parts) {
    assert.ok(payloadBytes(p) <= 4 * MiB, `a part carries ${payloadBytes(p)} payload bytes`);
    assert.deepEqual([p.type, p.appliesTo, p.resultsIn], ['COMPLETE', 0, 1]);
  }
  assert.deepEqual(parts.map((p) => p.partial), [...Array(parts.length - 1).fill(true), false]);
  assert.deepEqual(parts.flatMap((p) => p.changes), changes, 'the parts hold every change, in order');
});

test('a change larger than the budget goes alone in its part', () => {
  const parts = splitMessage(message([secret(1, 10), secret(2, 3 * MiB), secret(3, 10)]), MiB);
  assert.deepEqual(parts.map((p) => p.changes!.length), [1, 1, 1]);
});

/** What a node decodes: the parts as outputs (all fields present). */
const received = (m: AssignmentsMessage) => ({ partial: false, ...m }) as unknown as AssignmentsMessage__Output;

test('the node reassembles the parts into the one message, and only when the last arrives', () => {
  const changes = Array.from({ length: 6 }, (_, i) => secret(i, MiB));
  const buffer = new PartBuffer();
  const parts = splitMessage(message(changes), 2 * MiB + 4096); // two payloads of 1 MiB per part
  assert.equal(parts.length, 3);
  assert.equal(buffer.add(received(parts[0])), undefined);
  assert.equal(buffer.add(received(parts[1])), undefined);
  const whole = buffer.add(received(parts[2]));
  assert.deepEqual(whole?.changes, changes);
  assert.equal(whole?.type, 'COMPLETE');
  const single = received(message([taskChange(1)]));
  assert.equal(buffer.add(single), single, 'a message in one part passes through');
});

test('a part that does not continue the message breaks it: refused, and the buffered payloads are zeroed', () => {
  const buffer = new PartBuffer();
  const parts = splitMessage(message([secret(1, MiB), secret(2, MiB)]), MiB);
  const first = received(parts[0]);
  buffer.add(first);
  const other = received({ type: 'INCREMENTAL', appliesTo: 1, resultsIn: 2, changes: [taskChange(3)] });
  assert.throws(() => buffer.add(other), /was followed by INCREMENTAL 1→2/);
  assert.ok((first.changes[0].assignment!.secret!.data as Buffer).every((b) => b === 0), 'the buffered payload is zeroed');
  assert.equal(buffer.add(other), other, 'the buffer starts afresh');
});
