import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyObject, X509Certificate } from 'node:crypto';
import { initCluster, STORE_FILE } from './init.js';
import { readManagerId } from './manager-id.js';
import { Cluster } from './cluster.js';
import { openKeyring } from '../crypto/keyring.js';
import { openSqliteStore } from '../store/sqlite.js';

/** An initialised cluster's store and data key, in a temporary state dir removed afterwards. */
async function withInitialisedStore(fn: (store: ReturnType<typeof openSqliteStore>, dek: Buffer, managerId: string | undefined) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hush-cluster-'));
  try {
    const stateDir = join(dir, 'm');
    await initCluster({ stateDir, listenAddr: '127.0.0.1:0', autolock: false, certExpiryMs: 90 * 86_400_000 });
    const store = openSqliteStore(join(stateDir, STORE_FILE));
    try {
      await fn(store, openKeyring(stateDir).dek, readManagerId(stateDir));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the manager certificate is re-issued once half its validity has passed, and the new one is stored', async () => {
  await withInitialisedStore(async (store, dek, managerId) => {
    const cluster = await Cluster.load(store, dek, managerId);
    const first = cluster.identity.certPem;
    assert.equal(await cluster.renewIdentityIfDue(), false, 'a fresh certificate is kept');
    assert.equal(await cluster.renewIdentityIfDue(Date.now() + 46 * 86_400_000), true, 'past half of 90 days');
    assert.notEqual(cluster.identity.certPem, first);
    const cert = new X509Certificate(cluster.identity.certPem);
    assert.ok(cert.checkIssued(new X509Certificate(cluster.ca.certPem)));
    assert.match(cert.subjectAltName ?? '', /DNS:hush-manager/);
    assert.equal((await Cluster.load(store, dek, managerId)).identity.certPem, cluster.identity.certPem, 'stored, so a restart keeps it');
  });
});

/** Every string reachable from `root` through own properties (depth-limited, cycle-safe). */
function stringsIn(root: unknown, depth = 6, seen = new Set<unknown>()): string[] {
  if (typeof root === 'string') return [root];
  if (!root || typeof root !== 'object' || depth === 0 || seen.has(root) || Buffer.isBuffer(root)) return [];
  seen.add(root);
  return Object.values(root as Record<string, unknown>).flatMap((v) => stringsIn(v, depth - 1, seen));
}

test('the unlocked cluster holds the CA and TLS private keys as KeyObjects, never as PEM strings', async () => {
  await withInitialisedStore(async (store, dek, managerId) => {
    const cluster = await Cluster.load(store, dek, managerId);
    assert.ok(cluster.identity.key instanceof KeyObject);
    assert.equal(new X509Certificate(cluster.identity.certPem).checkPrivateKey(cluster.identity.key), true);
    await cluster.renewIdentityIfDue(Date.now() + 46 * 86_400_000);
    assert.ok(cluster.identity.key instanceof KeyObject, 'also after a renewal');
    const strings = stringsIn(cluster);
    assert.ok(strings.some((s) => s.includes('BEGIN CERTIFICATE')), 'the walk reaches the certificates');
    assert.equal(strings.filter((s) => s.includes('PRIVATE KEY')).length, 0);
  });
});
