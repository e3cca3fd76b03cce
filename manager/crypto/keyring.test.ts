import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createKeyring, openKeyring, rotateUnlockKey, formatUnlockKey, parseUnlockKey, WrongUnlockKeyError, isAutolocked,
} from './keyring.js';

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'hush-keyring-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('without autolock the DEK opens from the 0600 kek file', () => withDir((dir) => {
  const { dek, unlockKey } = createKeyring(dir, false);
  assert.equal(unlockKey, undefined);
  assert.equal(isAutolocked(dir), false);
  assert.equal(statSync(join(dir, 'kek')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'keyring.json')).mode & 0o777, 0o600);
  assert.deepEqual(openKeyring(dir).dek, dek);
  // The DEK itself is on disk only wrapped.
  for (const f of readdirSync(dir)) assert.equal(readFileSync(join(dir, f)).includes(dek), false);
}));

test('with autolock the DEK opens only with the unlock key, which is not on disk', () => withDir((dir) => {
  const { dek, unlockKey } = createKeyring(dir, true);
  assert.ok(unlockKey);
  assert.equal(isAutolocked(dir), true);
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f));
    assert.equal(bytes.includes(unlockKey), false);
    assert.equal(bytes.includes(formatUnlockKey(unlockKey)), false);
    assert.equal(bytes.includes(dek), false);
  }
  assert.deepEqual(openKeyring(dir, parseUnlockKey(formatUnlockKey(unlockKey))).dek, dek);
  assert.throws(() => openKeyring(dir, Buffer.alloc(32, 7)), WrongUnlockKeyError);
  assert.throws(() => openKeyring(dir), WrongUnlockKeyError);
}));

test('rotating the unlock key keeps the DEK and retires the old key', () => withDir((dir) => {
  const { dek, unlockKey } = createKeyring(dir, true);
  const next = rotateUnlockKey(dir, dek);
  assert.notDeepEqual(next, unlockKey);
  assert.deepEqual(openKeyring(dir, next).dek, dek);
  assert.throws(() => openKeyring(dir, unlockKey), WrongUnlockKeyError);
}));

test('unlock key text format is checked', () => {
  const k = Buffer.alloc(32, 1);
  const text = formatUnlockKey(k);
  assert.match(text, /^HUSHKEY-1-[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(parseUnlockKey(` ${text}\n`), k);
  for (const bad of ['', 'HUSHKEY-1-', 'SWMKEY-1-' + text.slice(10), text.slice(0, -1), text + 'A', text.replace(/.$/, '!')]) {
    assert.throws(() => parseUnlockKey(bad), /invalid unlock key format/);
  }
});
