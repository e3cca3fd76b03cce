import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { SharedPayloads } from './shared-payloads.js';

const zeroed = (b: Buffer) => b.every((x) => x === 0);

test('sessions in one turn share one read; the plaintext is zeroed once the last of them released it', async () => {
  const reads: Buffer[] = [];
  const payloads = new SharedPayloads(async () => {
    const b = Buffer.from('plaintext of s@1');
    reads.push(b);
    return b;
  });
  const [a, b] = await Promise.all([payloads.lease('s', 1), payloads.lease('s', 1)]);
  assert.equal(reads.length, 1, 'one read for both');
  assert.equal(a.data, b.data);
  a.release();
  await turn();
  assert.equal(b.data.toString(), 'plaintext of s@1', 'still held by the other session');
  b.release();
  assert.ok(zeroed(reads[0]), 'zeroed after the last release');
  // A later turn reads again (the zeroed buffer is never handed out).
  const c = await payloads.lease('s', 1);
  assert.equal(reads.length, 2);
  assert.equal(c.data.toString(), 'plaintext of s@1');
  c.release();
  await turn();
  assert.ok(zeroed(reads[1]));
});

test('a plaintext released before its sharing turn ends is zeroed when the turn ends; a release twice counts once', async () => {
  const reads: Buffer[] = [];
  const payloads = new SharedPayloads(async () => { const b = Buffer.from('v'); reads.push(b); return b; });
  const a = await payloads.lease('s', 1);
  a.release();
  a.release();
  const b = await payloads.lease('s', 1); // same turn: shared
  assert.equal(reads.length, 1);
  assert.equal(b.data.toString(), 'v');
  b.release();
  await turn();
  assert.ok(zeroed(reads[0]));
});

test('a failed read is not shared with a retry', async () => {
  let n = 0;
  const payloads = new SharedPayloads(async () => {
    if (n++ === 0) throw Object.assign(new Error('gone'), { code: 5 });
    return Buffer.from('v');
  });
  await assert.rejects(payloads.lease('s', 1), /gone/);
  const ok = await payloads.lease('s', 1);
  assert.equal(ok.data.toString(), 'v');
  ok.release();
});
