import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { seal, open, SealError, secretVersionContext } from './seal.js';

const key = randomBytes(32);
const ctx = secretVersionContext('abc', 1);
const data = Buffer.from('correct horse battery staple');

test('sealed data opens with the same key and context, and hides the plaintext', () => {
  const sealed = seal(key, ctx, data);
  assert.equal(sealed.includes(data), false);
  assert.deepEqual(open(key, ctx, sealed), data);
});

test('every seal uses a fresh nonce', () => {
  const a = seal(key, ctx, data);
  const b = seal(key, ctx, data);
  assert.notDeepEqual(a.subarray(1, 25), b.subarray(1, 25));
  assert.notDeepEqual(a, b);
});

test('a tampered byte anywhere fails to open', () => {
  const sealed = seal(key, ctx, data);
  for (const i of [0, 1, 24, 25, sealed.length - 1]) {
    const t = Buffer.from(sealed);
    t[i] ^= 1;
    assert.throws(() => open(key, ctx, t), SealError);
  }
  assert.throws(() => open(key, ctx, sealed.subarray(0, sealed.length - 1)), SealError);
  assert.throws(() => open(key, ctx, Buffer.alloc(0)), SealError);
});

test('the wrong key fails to open', () => {
  assert.throws(() => open(randomBytes(32), ctx, seal(key, ctx, data)), SealError);
});

test('a ciphertext copied onto another record (id or version) fails to open', () => {
  const sealed = seal(key, secretVersionContext('abc', 1), data);
  assert.throws(() => open(key, secretVersionContext('abd', 1), sealed), SealError);
  assert.throws(() => open(key, secretVersionContext('abc', 2), sealed), SealError);
});

test('the error message never carries the data', () => {
  try {
    open(key, 'other', seal(key, ctx, data));
    assert.fail('opened');
  } catch (e) {
    assert.ok(e instanceof SealError);
    assert.equal(String(e.message).includes('horse'), false);
  }
});
