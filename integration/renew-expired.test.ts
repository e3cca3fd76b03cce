// A node whose certificate has expired can no longer do mutual TLS, yet it can renew:
// it sends the expired certificate with proof of its key. The manager accepts that only
// for a certificate of its own CA, of a node still in the cluster, expired recently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateNodeKey, createCsr, identityFromCertificate } from '../common/certs.js';
import { openSqliteStore } from '../manager/store/sqlite.js';
import { openKeyring } from '../manager/crypto/keyring.js';
import { Cluster } from '../manager/cluster/cluster.js';
import { readManagerId } from '../manager/cluster/manager-id.js';
import { STORE_FILE } from '../manager/cluster/init.js';
import { decode, encode, keys, type NodeRecord } from '../manager/state/records.js';
import { renewExpiredCertificate } from '../agent/join.js';
import { TestNode } from './helpers/node.js';
import { initManager, startManager, hushOk, freePort, type RunningManager } from './helpers/manager.js';

const code = (e: unknown) => (e as { code?: number }).code;

test('an expired node certificate is renewed with proof of its key; forged or refused ones are not', { timeout: 90_000 }, async () => {
  const m = await initManager();
  const addr = `127.0.0.1:${await freePort()}`;
  let run: RunningManager | undefined;
  const nodes: TestNode[] = [];
  try {
    run = await startManager(m.stateDir, { listen: addr });
    const node = await TestNode.join(addr, m.workerToken, 'expiring');
    const other = await TestNode.join(addr, m.workerToken, 'other');
    nodes.push(node, other);
    await run.stop();

    // Let the node's certificate expire: issue it one that expired already, with the cluster's CA, and
    // record it as the node's certificate (as a renewal would have). Another one, not recorded, stands
    // for a certificate of the node that a renewal replaced.
    const store = openSqliteStore(join(m.stateDir, STORE_FILE));
    let expiredPem: string;
    let replacedPem: string;
    try {
      const cluster = await Cluster.load(store, openKeyring(m.stateDir).dek, readManagerId(m.stateDir));
      const issue = (nodeId: string, keyPem: string) => cluster.ca.issue({ csrPem: createCsr(keyPem), nodeId, role: 'worker', clusterId: cluster.id, validityMs: 1 }).certPem;
      expiredPem = issue(node.id, node.creds.keyPem);
      replacedPem = issue(node.id, node.creds.keyPem);
      const kv = (await store.get(keys.node(node.id)))!;
      const record = { ...decode<NodeRecord>(kv.value), certSerial: identityFromCertificate(expiredPem)!.serial };
      assert.ok((await store.txn([{ key: kv.key, modRev: kv.modRev }], [{ type: 'put', key: kv.key, value: encode(record) }])).ok);
      await new Promise((r) => setTimeout(r, 1100));
    } finally {
      await store.close();
    }
    run = await startManager(m.stateDir, { listen: addr });
    const expired = { ...node.creds, certPem: expiredPem };

    // Mutual TLS with it is refused.
    const stale = new TestNode(addr, expired);
    nodes.push(stale);
    await assert.rejects(stale.heartbeat(), (e) => code(e) === 16 /* UNAUTHENTICATED */ || code(e) === 14 /* UNAVAILABLE: handshake */);

    // Proof made with another key is refused.
    await assert.rejects(renewExpiredCertificate(addr, { ...expired, keyPem: generateNodeKey() }), (e) => code(e) === 7 && /proof does not verify/.test(String((e as Error).message)));
    // An expired certificate of the node that is not its current one is refused.
    await assert.rejects(renewExpiredCertificate(addr, { ...expired, certPem: replacedPem }), (e) => code(e) === 7 && /replaced by a renewal/.test(String((e as Error).message)));
    // A certificate that has not expired must be renewed over mutual TLS.
    await assert.rejects(renewExpiredCertificate(addr, other.creds), (e) => code(e) === 7 && /has not expired/.test(String((e as Error).message)));

    // The real thing: same node id and role, a new certificate that works.
    const renewed = await renewExpiredCertificate(addr, expired);
    assert.equal(renewed.nodeId, node.id);
    assert.equal(renewed.role, 'worker');
    assert.ok(identityFromCertificate(renewed.certPem)!.notAfter.getTime() > Date.now() + 3_600_000);
    const fresh = new TestNode(addr, renewed);
    nodes.push(fresh);
    assert.ok((await fresh.heartbeat()).periodMs > 0);

    // A removed node cannot renew its expired certificate.
    await hushOk(['node', 'rm', '--force', node.id], { env: m.env });
    await assert.rejects(renewExpiredCertificate(addr, expired), (e) => code(e) === 7);
  } finally {
    for (const n of nodes) n.close();
    await run?.stop();
    m.remove();
  }
});
