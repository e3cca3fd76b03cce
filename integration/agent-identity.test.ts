import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCA, CertificateAuthority } from '../manager/ca/ca.js';
import { createCsr, generateNodeKey } from '../common/certs.js';
import { loadIdentity, renewalTime, saveIdentity, validity } from '../agent/identity.js';

test('renewal happens at a random point between 50% and 80% of the validity', () => {
  const v = { notBefore: 1_000_000, notAfter: 1_000_000 + 90 * 86_400_000 };
  const span = v.notAfter - v.notBefore;
  assert.equal(renewalTime(v, () => 0), v.notBefore + span * 0.5);
  assert.equal(renewalTime(v, () => 0.999999), v.notBefore + span * (0.5 + 0.3 * 0.999999));
  for (let i = 0; i < 1000; i++) {
    const t = renewalTime(v);
    assert.ok(t >= v.notBefore + span * 0.5 && t < v.notBefore + span * 0.8);
  }
});

test('the node identity is one 0600 file in a 0700 dir, and loads back with its node id and role', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'hush-identity-')), 'agent');
  try {
    assert.equal(loadIdentity(dir), undefined);
    const ca = new CertificateAuthority(createRootCA('cluster1'));
    const keyPem = generateNodeKey();
    const { certPem } = ca.issue({ csrPem: createCsr(keyPem), nodeId: 'node1', role: 'worker', clusterId: 'cluster1', validityMs: 3_600_000 });
    saveIdentity(dir, { nodeId: 'node1', role: 'worker', keyPem, certPem, caPem: ca.certPem });
    assert.deepEqual(readdirSync(dir), ['identity.json']);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'identity.json')).mode & 0o777, 0o600);
    const back = loadIdentity(dir)!;
    assert.equal(back.nodeId, 'node1');
    assert.equal(back.role, 'worker');
    assert.equal(back.keyPem, keyPem);
    const v = validity(back.certPem);
    assert.ok(Math.abs(v.notAfter - v.notBefore - 3_600_000) <= 61_000);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
