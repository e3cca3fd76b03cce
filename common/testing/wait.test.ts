import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { waitUntil } from './wait.js';

test('waitUntil resolves with the first truthy result; errors count as not yet unless errors: fail', async () => {
  let n = 0;
  assert.equal(await waitUntil('the third check', () => (++n >= 3 ? `after ${n}` : undefined), 5000, { intervalMs: 1 }), 'after 3');
  let m = 0;
  assert.equal(await waitUntil('a check that throws twice', () => { if (++m < 3) throw new Error('not yet'); return m; }, 5000, { intervalMs: 1 }), 3);
  await assert.rejects(waitUntil('a check that fails', () => { throw new Error('broken'); }, 5000, { errors: 'fail' }), /^Error: broken$/);
  await assert.rejects(waitUntil('what never holds', () => false, 30), /timed out after 30 ms waiting for what never holds \(last: false\)/);
});

test('waitUntil with wake checks on each event: with polls an hour apart, the events alone end the wait', async () => {
  const events = new EventEmitter();
  let value = 0;
  const wake = (onEvent: () => void) => {
    events.on('change', onEvent);
    return () => events.off('change', onEvent);
  };
  const waiting = waitUntil('value 2', () => value === 2 && value, 60_000, { intervalMs: 3_600_000, wake });
  for (const v of [1, 2]) {
    await new Promise((r) => setImmediate(r));
    value = v;
    events.emit('change');
  }
  assert.equal(await waiting, 2);
  assert.equal(events.listenerCount('change'), 0, 'unsubscribed once done');
});
