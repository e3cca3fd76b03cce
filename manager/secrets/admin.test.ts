import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { HushError } from '../../common/errors.js';
import { keys } from '../state/records.js';
import { SealError } from '../crypto/seal.js';
import { SecretAdmin } from './admin.js';

let dir: string;
let store: Store;
let dek: Buffer;
let service: SecretAdmin;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hush-secrets-'));
  store = openSqliteStore(join(dir, 'manager.db'));
  dek = randomBytes(32);
  service = new SecretAdmin(store, dek);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (c: status) => (e: unknown) => e instanceof HushError && e.code === c;

test('create, look up by name, id and id prefix, list, and read back the payload', async () => {
  const value = Buffer.from('hush-unit-' + randomBytes(8).toString('hex'));
  const s = await service.create('db_password', Buffer.from(value), { env: 'prod' });
  assert.match(s.id, /^[0-9a-z]{25}$/);
  assert.deepEqual(s.versions.map((v) => [v.version, v.size]), [[1, value.length]]);
  assert.equal((await service.get('db_password')).id, s.id);
  assert.equal((await service.get(s.id)).name, 'db_password');
  assert.equal((await service.get(s.id.slice(0, 6))).id, s.id);
  assert.deepEqual((await service.list()).map((x) => x.name), ['db_password']);
  assert.deepEqual(await service.readPayload(s.id, 1), value);
});

test('create and update zero the plaintext they were given once sealed, also when they refuse it', async () => {
  const given = () => Buffer.from('hush-unit-' + randomBytes(8).toString('hex'));
  const zeroed = (b: Buffer) => b.every((byte) => byte === 0);
  const first = given();
  const s = await service.create('z', first, {});
  assert.ok(zeroed(first), 'create zeroes its input');
  const second = given();
  await service.update('z', second);
  assert.ok(zeroed(second), 'update zeroes its input');
  const duplicate = given();
  await assert.rejects(service.create('z', duplicate, {}), code(status.ALREADY_EXISTS));
  assert.ok(zeroed(duplicate), 'a refused create zeroes its input too');
  const badName = given();
  await assert.rejects(service.create('bad name', badName, {}), code(status.INVALID_ARGUMENT));
  assert.ok(zeroed(badName));
  const unknown = given();
  await assert.rejects(service.update('nope', unknown), code(status.NOT_FOUND));
  assert.ok(zeroed(unknown), 'a refused update zeroes its input');
  assert.equal((await service.readPayload(s.id, 2)).length, second.length, 'what was sealed is the value, not the zeroes');
  assert.equal(zeroed(await service.readPayload(s.id, 2)), false);
});

test('a duplicate name is refused and nothing is stored', async () => {
  await service.create('a', Buffer.from('1'), {});
  const before = await store.revision();
  await assert.rejects(service.create('a', Buffer.from('2'), {}), code(status.ALREADY_EXISTS));
  assert.equal(await store.revision(), before);
  assert.equal((await service.list()).length, 1);
});

test('bad input is refused before anything is stored', async () => {
  const before = await store.revision();
  await assert.rejects(service.create('bad name', Buffer.from('x'), {}), code(status.INVALID_ARGUMENT));
  await assert.rejects(service.create('ok', Buffer.alloc(0), {}), code(status.INVALID_ARGUMENT));
  await assert.rejects(service.create('ok', Buffer.alloc(512_000), {}), code(status.INVALID_ARGUMENT));
  await assert.rejects(service.create('ok', Buffer.from('x'), { 'a b': 'c' }), code(status.INVALID_ARGUMENT));
  await assert.rejects(service.get('nope'), code(status.NOT_FOUND));
  assert.equal(await store.revision(), before);
});

test('update adds an immutable version; both versions stay readable', async () => {
  const s = await service.create('k', Buffer.from('one'), {});
  const u = await service.update('k', Buffer.from('two'));
  assert.deepEqual(u.versions.map((v) => v.version), [1, 2]);
  assert.deepEqual(await service.readPayload(s.id, 1), Buffer.from('one'));
  assert.deepEqual(await service.readPayload(s.id, 2), Buffer.from('two'));
});

test('remove deletes the record, its name and every version; the name can be reused', async () => {
  const s = await service.create('k', Buffer.from('one'), {});
  await service.update('k', Buffer.from('two'));
  await service.remove('k');
  await assert.rejects(service.get('k'), code(status.NOT_FOUND));
  assert.equal(await store.getBlob(keys.secretBlob(s.id, 1)), undefined);
  assert.equal(await store.getBlob(keys.secretBlob(s.id, 2)), undefined);
  await service.create('k', Buffer.from('three'), {});
});

test('remove is refused while services reference the secret, naming them', async () => {
  const guarded = new SecretAdmin(store, dek, async () => ['web', 'api']);
  await guarded.create('k', Buffer.from('x'), {});
  await assert.rejects(guarded.remove('k'), (e: unknown) => code(status.FAILED_PRECONDITION)(e) && /in use by .*web, api/.test((e as Error).message));
  assert.equal((await guarded.list()).length, 1);
});

test('payloads are sealed on disk and a ciphertext moved to another record does not open', async () => {
  const value = Buffer.from('hush-unit-' + randomBytes(8).toString('hex'));
  const a = await service.create('a', Buffer.from(value), {});
  const b = await service.create('b', Buffer.from('other'), {});
  const sealedA = (await store.getBlob(keys.secretBlob(a.id, 1)))!;
  assert.equal(sealedA.includes(value), false);
  // An attacker with write access to the store swaps b's ciphertext for a's.
  await store.txn([], [{ type: 'deleteBlob', id: keys.secretBlob(b.id, 1) }]);
  await store.txn([], [{ type: 'putBlob', id: keys.secretBlob(b.id, 1), data: sealedA }]);
  await assert.rejects(service.readPayload(b.id, 1), SealError);
  await store.close();
  for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir, f)).includes(value), false, f);
  store = openSqliteStore(join(dir, 'manager.db'));
});
