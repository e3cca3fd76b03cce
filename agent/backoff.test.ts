// The agent's reconnect schedule (agent/backoff.ts): bounds, growth, cap, and how a storm of agents
// that lost the same manager spreads over the window (seeded draws: a failure names its seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../common/testing/seeded-random.js';
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS, RECONNECT_FLOOR_MS, reconnectCeilingMs, reconnectDelayMs } from './backoff.js';

const SEED = 0x5eed_0010;

test('the ceiling doubles from the base with each failure in a row, up to the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(reconnectCeilingMs), [250, 500, 1000, 2000, 3000, 3000, 3000]);
  assert.equal(reconnectCeilingMs(1), RECONNECT_BASE_MS);
  for (const failures of [10, 64, 1_000, 1e9]) assert.equal(reconnectCeilingMs(failures), RECONNECT_CAP_MS, `failures ${failures}`);
  assert.ok(RECONNECT_CAP_MS <= 5000, 'a manager restart costs a node at most a few seconds');
});

test('every delay lies between the floor and the ceiling of its failure count', () => {
  const random = seededRandom(SEED);
  for (let failures = 1; failures <= 40; failures++) {
    for (let i = 0; i < 500; i++) {
      const d = reconnectDelayMs(failures, random);
      assert.ok(Number.isInteger(d), `seed ${SEED}: integer delay`);
      assert.ok(d >= RECONNECT_FLOOR_MS && d <= reconnectCeilingMs(failures), `seed ${SEED}: failures ${failures}: ${d} ms`);
    }
  }
  // The extremes of the draw.
  assert.equal(reconnectDelayMs(50, () => 0), RECONNECT_FLOOR_MS);
  assert.equal(reconnectDelayMs(50, () => 1 - 2 ** -53), RECONNECT_CAP_MS);
  assert.equal(reconnectDelayMs(1, () => 1 - 2 ** -53), RECONNECT_BASE_MS);
});

test('an agent that keeps failing for 20 s retries at least every cap: none waits ~12 s as before', () => {
  const random = seededRandom(SEED + 1);
  let t = 0;
  let failures = 0;
  let longest = 0;
  while (t < 20_000) {
    const d = reconnectDelayMs(++failures, random);
    longest = Math.max(longest, d);
    t += d;
  }
  assert.ok(longest <= RECONNECT_CAP_MS, `seed ${SEED + 1}: longest wait ${longest} ms`);
  assert.ok(failures >= 20_000 / RECONNECT_CAP_MS, `seed ${SEED + 1}: ${failures} tries`);
});

test('10,000 agents at the cap spread evenly over the window: no burst', () => {
  const agents = 10_000;
  const random = seededRandom(SEED + 2);
  const bucketMs = 100;
  const buckets = new Array<number>(Math.ceil(RECONNECT_CAP_MS / bucketMs)).fill(0);
  for (let i = 0; i < agents; i++) buckets[Math.min(buckets.length - 1, Math.floor(reconnectDelayMs(20, random) / bucketMs))]++;
  // The floor leaves the first bucket empty; the rest hold ~agents / 29 each (~345 ± 18).
  assert.equal(buckets[0], 0, 'nobody retries before the floor');
  const perBucket = agents / ((RECONNECT_CAP_MS - RECONNECT_FLOOR_MS) / bucketMs);
  for (let b = 1; b < buckets.length; b++) {
    assert.ok(Math.abs(buckets[b] - perBucket) < perBucket * 0.25, `seed ${SEED + 2}: ${buckets[b]} agents retry in [${b * bucketMs}, ${(b + 1) * bucketMs}) ms, expected ~${Math.round(perBucket)}`);
  }
});
