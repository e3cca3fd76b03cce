// SQLite-only behaviour of the store: file modes, the exclusive lock, foreign files, and durability
// across SIGKILL. What every backend must do is in contract.ts (run by sqlite-contract.test.ts);
// the full disk is in sqlite-full.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite.js';

// A temp dir per test, removed (and its stores closed) after the test, pass or fail.
function tmp(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-store-'));
  const file = path.join(dir, 'store.db');
  const opened: SqliteStore[] = [];
  t.after(async () => {
    try {
      for (const s of opened) await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  const open = (opts?: SqliteStoreOptions) => {
    const s = openSqliteStore(file, opts);
    opened.push(s);
    return s;
  };
  return { dir, file, open };
}

const b = (s: string) => Buffer.from(s);
const put = (key: string, value: string) => ({ type: 'put' as const, key, value: b(value) });

test('files are created with mode 0600 and the store is locked against a second opener', async (t) => {
  const { file, open } = tmp(t);
  const old = process.umask(0o022);
  let store: SqliteStore;
  try {
    store = open();
  } finally {
    process.umask(old);
  }
  await store.txn([], [put('a', '1')]);
  for (const f of [file, file + '-wal']) {
    if (fs.existsSync(f)) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  }
  assert.ok(fs.existsSync(file + '-wal'));
  assert.throws(() => openSqliteStore(file), /is locked: another process has it open/);
  await store.close();

  // A pre-existing file with a wider mode is narrowed.
  fs.chmodSync(file, 0o644);
  open();
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

test('readOnly: writes nothing to the file, rejects txns, is refused while a writer has it and refuses one while open', async (t) => {
  const { dir, file, open } = tmp(t);
  const writer = open();
  await writer.txn([], [put('a', '1'), { type: 'putBlob', id: 'x', data: b('blob') }]);
  assert.throws(() => openSqliteStore(file, { readOnly: true }), /is locked: another process has it open/);
  await writer.close();
  const before = fs.readFileSync(file);
  const mtime = fs.statSync(file).mtimeMs;
  const reader = open({ readOnly: true });
  assert.deepEqual((await reader.range('')).kvs.map((kv) => [kv.key, kv.value.toString()]), [['a', '1']]);
  assert.equal((await reader.getBlob('x'))?.toString(), 'blob');
  assert.equal(await reader.revision(), 1);
  await assert.rejects(reader.txn([], [put('b', '2')]), /is open read-only/);
  assert.throws(() => openSqliteStore(file), /is locked: another process has it open/);
  await reader.close();
  assert.ok(fs.readFileSync(file).equals(before));
  assert.equal(fs.statSync(file).mtimeMs, mtime);
  assert.throws(() => openSqliteStore(path.join(dir, 'absent.db'), { readOnly: true }), /unable to open database file/);
  assert.equal(fs.existsSync(path.join(dir, 'absent.db')), false);
});

test('refuses files that are not hush stores or have an unknown schema version', async (t) => {
  const { dir } = tmp(t);
  const foreign = path.join(dir, 'foreign.db');
  const db = new Database(foreign);
  db.exec('CREATE TABLE x (a)');
  db.close();
  assert.throws(() => openSqliteStore(foreign), /not a hush store/);

  const future = path.join(dir, 'future.db');
  await openSqliteStore(future).close();
  const db2 = new Database(future);
  db2.prepare(`UPDATE meta SET value = 99 WHERE name = 'schema_version'`).run();
  db2.close();
  assert.throws(() => openSqliteStore(future), /unsupported store schema version 99/);
});

test('acknowledged txns survive SIGKILL', async (t) => {
  const { file, open } = tmp(t);
  const child = spawn(process.execPath, [fileURLToPath(new URL('./testdata/kill-child.js', import.meta.url)), file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig ?? code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out === '') setTimeout(() => (child.kill('SIGKILL'), resolve()), 300);
      out += d;
    });
    child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
  });
  assert.equal(await exited, 'SIGKILL', err);

  const acked = out.split('\n').slice(0, -1); // a trailing partial line is not an acknowledgement
  assert.ok(acked.length > 0);
  // A read-only open sees them too (they are in the WAL, not yet in the file), and writes nothing.
  const before = fs.readFileSync(file);
  const reader = open({ readOnly: true });
  for (const key of acked.slice(-20)) assert.ok((await reader.get(key))?.value.equals(b(key)), key);
  await reader.close();
  assert.ok(fs.readFileSync(file).equals(before), 'a read-only open changed the file');
  const store = open();
  const missing: string[] = [];
  for (const key of acked) {
    if (!(await store.get(key))?.value.equals(b(key)) || !(await store.getBlob(key))) missing.push(key);
  }
  assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged keys lost`);
  assert.ok((await store.revision()) >= acked.length);
  t.diagnostic(`${acked.length} acknowledged txns in ~300 ms before SIGKILL, all present after reopen (revision ${await store.revision()})`);
});
