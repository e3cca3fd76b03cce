import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateLabels, validateName, validateSecretData, MAX_SECRET_BYTES } from './validate.js';

test('names follow Swarm\'s rule: 64 [a-zA-Z0-9-_.] characters, alphanumeric at both ends', () => {
  for (const ok of ['a', 'db_password', 'a.b-c_d', 'A1', 'x'.repeat(64), '9']) assert.doesNotThrow(() => validateName(ok), ok);
  for (const bad of ['', ' a', 'a ', '.a', 'a.', '-a', 'a_', 'x'.repeat(65), '../x', 'a/b', 'a b', 'é', 'a\n']) {
    assert.throws(() => validateName(bad), /invalid name .*only 64 \[a-zA-Z0-9-_.\] characters allowed/, JSON.stringify(bad));
  }
});

test('data is 1 to 511,999 bytes', () => {
  assert.doesNotThrow(() => validateSecretData(Buffer.alloc(1)));
  assert.doesNotThrow(() => validateSecretData(Buffer.alloc(MAX_SECRET_BYTES)));
  assert.throws(() => validateSecretData(Buffer.alloc(0)), /larger than 0 and less than 512000 bytes/);
  assert.throws(() => validateSecretData(Buffer.alloc(512_000)), /larger than 0 and less than 512000 bytes/);
});

test('labels: printable keys without = or space, bounded sizes', () => {
  assert.doesNotThrow(() => validateLabels({ env: 'prod', 'com.example/team': 'a b', empty: '' }));
  assert.throws(() => validateLabels({ '': 'x' }), /invalid label key/);
  assert.throws(() => validateLabels({ 'a=b': 'x' }), /invalid label key/);
  assert.throws(() => validateLabels({ 'a\u001b[31m': 'x' }), /invalid label key/);
  assert.throws(() => validateLabels({ a: 'line\nforged' }), /invalid value for label/);
  assert.throws(() => validateLabels({ a: 'x'.repeat(1025) }), /invalid value for label/);
  assert.throws(() => validateLabels(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))), /too many labels/);
});
