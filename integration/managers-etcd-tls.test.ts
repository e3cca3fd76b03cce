// Managers on etcd over TLS (client certificates), with autolock: `manager join` copies the etcd TLS
// material to the new manager, which starts locked and is unlocked with the cluster's unlock key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startHaCluster, type HaCluster } from './helpers/ha.js';
import { distinctive, hush, hushOk, waitUntilReady } from './helpers/manager.js';
import { waitUntil } from '../common/testing/wait.js';

let c: HaCluster | undefined;
after(async () => { await c?.stop(); });

test('two autolocked managers on etcd over TLS: the joined one has the TLS files (0600), starts locked, serves once unlocked', { timeout: 120_000 }, async () => {
  c = await startHaCluster({ managers: 2, tls: true, autolock: true });
  const [a, b] = c.managers;
  for (const f of ['etcd-ca.pem', 'etcd-cert.pem', 'etcd-key.pem', 'store.json']) {
    assert.equal(statSync(join(b.stateDir, f)).mode & 0o777, 0o600, f);
  }
  assert.match(readFileSync(join(b.stateDir, 'store.json'), 'utf8'), /"endpoints":\["127\.0\.0\.1:\d+"/);
  await c.leader(a);
  assert.equal((await c.ls(b)).length, 2);
  const name = `tls-${Date.now()}`;
  await hushOk(['secret', 'create', name, '-'], { env: b.env, input: distinctive() });
  await waitUntil('listed on the other manager', async () => (await hush(['secret', 'ls'], { env: a.env })).stdout.includes(name), 5000);
  // A restart of the joined manager: locked again until given the cluster's unlock key.
  await b.proc!.stop();
  await b.start();
  assert.equal(b.proc!.locked, true);
  const locked = await hush(['secret', 'ls'], { env: b.env });
  assert.notEqual(locked.code, 0);
  assert.match(locked.stderr, /locked/);
  await hushOk(['manager', 'unlock'], { env: b.env, input: c.unlockKey });
  await waitUntilReady(b.proc!);
  assert.match((await hushOk(['secret', 'ls'], { env: b.env })).stdout, new RegExp(name));
});
