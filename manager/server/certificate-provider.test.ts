import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { MemoryCertificateProvider } from './certificate-provider.js';

const zeroed = (b: Buffer) => b.every((byte) => byte === 0);
const nextTick = () => new Promise<void>((r) => queueMicrotask(r));

test('the TLS key PEM handed to grpc-js is a Buffer, zeroed when replaced and when closed', async () => {
  const first = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const second = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const provider = new MemoryCertificateProvider('ca', 'cert', first);
  const seen: Buffer[] = [];
  provider.addIdentityCertificateListener((u) => { if (u) seen.push(u.privateKey); });
  await nextTick();
  assert.equal(seen.length, 1);
  assert.equal(seen[0].toString(), first.export({ type: 'pkcs8', format: 'pem' }));
  provider.update('ca', 'cert2', second);
  assert.equal(seen.length, 2);
  assert.ok(zeroed(seen[0]), 'the replaced key is zeroed once the listeners have the new one');
  assert.equal(seen[1].toString(), second.export({ type: 'pkcs8', format: 'pem' }));
  provider.close();
  assert.ok(zeroed(seen[1]));
});
