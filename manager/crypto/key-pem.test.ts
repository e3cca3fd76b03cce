import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import { privateKeyPem } from './key-pem.js';

test('privateKeyPem writes the same PEM as KeyObject.export, into a Buffer', () => {
  for (const modulusLength of [1024, 2048, 3072]) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength });
    const pem = privateKeyPem(privateKey);
    assert.ok(Buffer.isBuffer(pem));
    assert.equal(pem.toString('latin1'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    assert.equal(createPrivateKey(pem).equals(privateKey), true);
  }
});

test('privateKeyPem pads DER lengths of every remainder mod 3', () => {
  // PKCS#8 DER lengths here: ed25519 48 (mod 3 = 0), P-384 185 (2), P-521 241 (1).
  const keys = [generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
    generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey];
  const remainders = new Set(keys.map((k) => k.export({ type: 'pkcs8', format: 'der' }).length % 3));
  assert.deepEqual([...remainders].sort(), [0, 1, 2]);
  for (const key of keys) assert.equal(privateKeyPem(key).toString('latin1'), key.export({ type: 'pkcs8', format: 'pem' }));
});
