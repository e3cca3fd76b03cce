// `hush manager migrate` (migrate.ts) against a real 3-member etcd: what it copies and verifies,
// batching within etcd's limits, an older state directory, a half-done copy, and every refusal.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '../store/testdata/etcd-cluster.js';
import { openStore } from '../store/open.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { etcdStoreConfig, storeConfigFor, type EtcdSettings } from '../store/state-config.js';
import { openKeyring } from '../crypto/keyring.js';
import { SecretAdmin } from '../secrets/admin.js';
import { decode, encode, keys, type ManagerRecord } from '../state/records.js';
import { initCluster } from './init.js';
import { Cluster } from './cluster.js';
import { readManagerId } from './manager-id.js';
import { migrateToEtcd } from './migrate.js';
import { MAX_TXN_OPS } from './migrate-copy.js';

let etcd: EtcdCluster;
before(async () => {
  etcd = await startEtcdCluster();
});
after(() => etcd?.stop());

let n = 0;
const settings = (prefix = `/mig-${process.pid}-${++n}`): EtcdSettings => ({ endpoints: etcd.endpoints, prefix });
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function withStore<T>(t: TestContext, s: Store, fn: (s: Store) => Promise<T>): Promise<T> {
  t.after(() => s.close());
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** An embedded cluster made by `manager init`, with secrets made by the manager's own SecretAdmin. */
async function embedded(t: TestContext, secrets: { small: number; large: number; versions?: number }) {
  const root = mkdtempSync(join(tmpdir(), 'hush-migrate-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'm');
  const init = await initCluster({ stateDir: dir, listenAddr: '127.0.0.1:0', autolock: false, certExpiryMs: 90 * 86_400_000 });
  const payloads = new Map<string, Buffer>(); // secret id/version -> plaintext
  await withStore(t, openSqliteStore(join(dir, 'manager.db')), async (store) => {
    const admin = new SecretAdmin(store, openKeyring(dir).dek, async () => []);
    const make = async (name: string, data: Buffer) => {
      const r = await admin.create(name, Buffer.from(data), {});
      payloads.set(`${r.id}/1`, data);
      return r;
    };
    for (let i = 0; i < secrets.large; i++) await make(`large-${i}`, randomBytes(500_000));
    for (let i = 0; i < secrets.small; i++) await make(`small-${i}`, randomBytes(40));
    if (secrets.versions) {
      const r = await make('versioned', Buffer.from('v1'));
      for (let v = 2; v <= secrets.versions; v++) {
        await admin.update(r.id, Buffer.from(`v${v}`));
        payloads.set(`${r.id}/${v}`, Buffer.from(`v${v}`));
      }
    }
  });
  return { dir, db: join(dir, 'manager.db'), managerId: init.managerId, clusterId: init.clusterId, payloads };
}

async function sqliteContents(t: TestContext, db: string) {
  return withStore(t, openSqliteStore(db, { readOnly: true }), async (s) => (await s.range('')).kvs);
}

test('copies every key and blob, within etcd\'s limits, verifies them, and switches the state directory; manager.db is unchanged', { timeout: 120_000 }, async (t) => {
  // 3 blobs of ~500 KB (all three would pass etcd's 1.5 MiB request limit in one txn) and more
  // blobs and keys than one txn may carry ops: the etcd store refuses a txn over either limit.
  const c = await embedded(t, { small: MAX_TXN_OPS, large: 3, versions: 3 });
  const before = { sha: sha(c.db), mtime: statSync(c.db).mtimeMs };
  const source = await sqliteContents(t, c.db);
  const target = settings();
  const r = await migrateToEtcd({ stateDir: c.dir, etcd: target });
  assert.equal(r.clusterId, c.clusterId);
  assert.equal(r.managerId, c.managerId);
  assert.equal(r.keys, source.length);
  assert.equal(r.blobs, MAX_TXN_OPS + 3 + 3);
  assert.ok(r.bytes > 1_500_000, `${r.bytes} bytes`);
  assert.deepEqual(r.written, ['store.json']);
  assert.deepEqual({ sha: sha(c.db), mtime: statSync(c.db).mtimeMs }, before, 'manager.db changed');

  // The state directory now opens etcd, which holds the same keys (values byte for byte), the
  // manager's identity and CA as they were, and every payload opens with the data key.
  const config = storeConfigFor(c.dir);
  assert.equal(config.backend, 'etcd');
  await withStore(t, await openStore(config), async (store) => {
    const { kvs, revision } = await store.range('');
    assert.ok(revision >= Math.ceil((source.length + r.blobs) / MAX_TXN_OPS) + 1, `${revision} txns`);
    assert.deepEqual(kvs.map((kv) => [kv.key, kv.value.toString('base64')]), source.map((kv) => [kv.key, kv.value.toString('base64')]));
    const dek = openKeyring(c.dir).dek;
    const cluster = await Cluster.load(store, dek, readManagerId(c.dir));
    assert.equal(cluster.id, c.clusterId);
    assert.equal(cluster.identity.id, c.managerId);
    const admin = new SecretAdmin(store, dek, async () => []);
    for (const [idv, plain] of c.payloads) {
      const [id, v] = idv.split('/');
      assert.ok((await admin.readPayload(id, Number(v))).equals(plain), `payload ${idv}`);
    }
  });

  // A second migrate of the same directory is refused.
  await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: settings() }), /is already on etcd \(.*prefix \/mig-.*\): nothing to migrate$/);
});

test('an older state directory (no manager.json, identity under /manager-identity): the identity is also put under its id, with a manager record', { timeout: 60_000 }, async (t) => {
  const c = await embedded(t, { small: 2, large: 0 });
  // Turn it into a directory as made before managers had ids.
  await withStore(t, openSqliteStore(c.db), async (s) => {
    const identity = (await s.get(keys.managerIdentityOf(c.managerId)))!.value;
    await s.txn([], [
      { type: 'put', key: keys.managerIdentity, value: identity },
      { type: 'delete', key: keys.managerIdentityOf(c.managerId) },
      { type: 'delete', key: keys.manager(c.managerId) },
    ]);
  });
  rmSync(join(c.dir, 'manager.json'));
  const before = sha(c.db);
  const r = await migrateToEtcd({ stateDir: c.dir, etcd: settings() });
  assert.deepEqual(r.written, ['store.json', 'manager.json']);
  assert.equal(r.managerId, c.managerId);
  assert.equal(readManagerId(c.dir), c.managerId);
  assert.equal(sha(c.db), before);
  await withStore(t, await openStore(storeConfigFor(c.dir)), async (store) => {
    const legacy = (await store.get(keys.managerIdentity))!.value;
    assert.ok((await store.get(keys.managerIdentityOf(c.managerId)))!.value.equals(legacy));
    const m = decode<ManagerRecord>((await store.get(keys.manager(c.managerId)))!.value);
    assert.equal(m.id, c.managerId);
    assert.equal(m.heartbeatAtMs, 0, 'not reachable until it runs');
    const cluster = await Cluster.load(store, openKeyring(c.dir).dek, readManagerId(c.dir));
    assert.equal(cluster.identity.id, c.managerId);
  });
});

test('over TLS: the etcd TLS files are written 0600 beside store.json', { timeout: 60_000 }, async (t) => {
  const c = await embedded(t, { small: 1, large: 0 });
  const tls = { endpoints: etcd.tlsEndpoints, prefix: `/mig-tls-${process.pid}`, tls: etcd.tls };
  const r = await migrateToEtcd({ stateDir: c.dir, etcd: tls });
  assert.deepEqual(r.written, ['store.json', 'etcd-ca.pem', 'etcd-cert.pem', 'etcd-key.pem']);
  for (const f of r.written) assert.equal(statSync(join(c.dir, f)).mode & 0o777, 0o600, f);
  await withStore(t, await openStore(storeConfigFor(c.dir)), async (s) => assert.ok(await s.get(keys.cluster)));
});

test('a copy that fails half way leaves no cluster and the directory on SQLite; the clearing command it names makes a retry work', { timeout: 60_000 }, async (t) => {
  const c = await embedded(t, { small: 3, large: 0 });
  // A version whose payload is over etcd's request limit (not one hush makes: only to make a txn fail after others).
  let big = '';
  await withStore(t, openSqliteStore(c.db), async (s) => {
    const id = 'zzzzzzzzzzzzzzzzzzzzzzzzz';
    big = id;
    const record = { id, name: 'zz', labels: {}, createdAtMs: 1, updatedAtMs: 1, versions: [{ version: 1, createdAtMs: 1, size: 2_000_000 }] };
    await s.txn([], [{ type: 'put', key: keys.secret(id), value: encode(record) }, { type: 'putBlob', id: keys.secretBlob(id, 1), data: randomBytes(2_000_000) }]);
  });
  const target = settings();
  const err = await migrateToEtcd({ stateDir: c.dir, etcd: target }).then(() => undefined, (e: Error) => e);
  assert.ok(err);
  assert.match(err.message, /^migration to etcd failed after [1-9]\d* of \d+ writes: etcd store: this txn is \d+ bytes, over etcd's request limit .*is unchanged \(still on SQLite\)\. Clear the prefix with `.*` and migrate again$/);
  assert.ok(!err.message.includes('\n'));
  assert.equal(existsSync(join(c.dir, 'store.json')), false);
  assert.equal(storeConfigFor(c.dir).backend, 'sqlite');
  await withStore(t, await openStore(etcdStoreConfig(target)), async (s) => {
    assert.equal(await s.get(keys.cluster), undefined, 'no cluster in etcd');
    assert.ok((await s.revision()) > 0);
  });
  // Until the prefix is cleared, a retry is refused with the same advice.
  await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: target }), /holds data but no cluster \(a half-done migrate\?\): clear it with `etcdctl .*` and migrate again$/);
  execFileSync('sh', ['-c', /`([^`]+)`/.exec(err.message)![1]], { stdio: 'ignore' });
  await withStore(t, openSqliteStore(c.db), (s) => s.txn([], [{ type: 'delete', key: keys.secret(big) }, { type: 'deleteBlob', id: keys.secretBlob(big, 1) }]));
  const r = await migrateToEtcd({ stateDir: c.dir, etcd: target });
  assert.equal(r.blobs, 3);
});

test('refusals, each one line: no cluster, a running manager (control socket, locked store), a prefix with a cluster, a missing payload', { timeout: 60_000 }, async (t) => {
  const c = await embedded(t, { small: 1, large: 0 });
  const empty = mkdtempSync(join(tmpdir(), 'hush-migrate-empty-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  await assert.rejects(migrateToEtcd({ stateDir: empty, etcd: settings() }), /^Error: no cluster in .*: nothing to migrate$/);

  const held = openSqliteStore(c.db);
  try {
    await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: settings() }), /^Error: the manager of .* is running \(.*manager\.db is locked by another process\): stop it, then migrate$/);
  } finally {
    await held.close();
  }
  const sock = createServer().listen(join(c.dir, 'control.sock'));
  await new Promise((r) => sock.once('listening', r));
  try {
    await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: settings() }), /^Error: the manager of .* is running \(its control socket answers\): stop it, then migrate$/);
  } finally {
    await new Promise((r) => sock.close(r));
  }

  // A prefix another cluster was moved to.
  const other = await embedded(t, { small: 1, large: 0 });
  const taken = settings();
  await migrateToEtcd({ stateDir: other.dir, etcd: taken });
  await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: taken }), new RegExp(`^Error: etcd prefix ${taken.prefix} already holds a cluster \\(${other.clusterId}\\): choose another --etcd-prefix$`));

  // etcd not reachable.
  await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: { endpoints: ['127.0.0.1:1'], prefix: '/x' } }), /^Error: etcd store: cannot reach etcd at 127\.0\.0\.1:1: /);

  // A payload gone from manager.db: nothing is written anywhere.
  const secrets = (await sqliteContents(t, c.db)).filter((kv) => kv.key.startsWith(keys.secretsPrefix));
  const id = (JSON.parse(secrets[0].value.toString()) as { id: string }).id;
  await withStore(t, openSqliteStore(c.db), (s) => s.txn([], [{ type: 'deleteBlob', id: keys.secretBlob(id, 1) }]));
  const target = settings();
  await assert.rejects(migrateToEtcd({ stateDir: c.dir, etcd: target }), new RegExp(`^Error: .*manager\\.db lacks the payload of secret ${id} version 1 \\(blob secret/${id}/1\\): not migrating a damaged store$`));
  await withStore(t, await openStore(etcdStoreConfig(target)), async (s) => assert.equal(await s.revision(), 0));
  assert.equal(storeConfigFor(c.dir).backend, 'sqlite');
});
