import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { createCsr, generateNodeKey, identityFromCertificate } from '../../common/certs.js';
import { HushError } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import { CertificateAuthority, createRootCA, type IssueRequest } from './ca.js';

const clusterId = newId();
const root = createRootCA(clusterId);
const ca = new CertificateAuthority(root);
const rootX = new crypto.X509Certificate(root.certPem);
// A second CA with the same cluster id, so only keys (not names) tell them apart.
const foreignCA = new CertificateAuthority(createRootCA(clusterId));

const nodeKey = generateNodeKey();
const csrPem = createCsr(nodeKey);
const HOUR = 3_600_000;
const MINUTE = 60_000;

const issue = (over: Partial<IssueRequest> = {}, authority = ca) =>
  authority.issue({ csrPem, nodeId: newId(), role: 'worker', clusterId, validityMs: 24 * HOUR, ...over });

const subjectOf = (x: crypto.X509Certificate) => x.subject.split('\n').sort();

test('root CA: self-signed CA certificate named after the cluster, PKCS#8 key', () => {
  assert.deepEqual(subjectOf(rootX), ['CN=hush-root-ca', `O=${clusterId}`]);
  assert.equal(rootX.issuer, rootX.subject);
  assert.equal(rootX.ca, true);
  assert.equal(rootX.verify(rootX.publicKey), true);
  assert.equal(rootX.checkPrivateKey(crypto.createPrivateKey(root.keyPem)), true);
  assert.match(root.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(rootX.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const years = (Date.parse(rootX.validTo) - Date.now()) / (365.25 * 86_400_000);
  assert.ok(years > 19.9 && years < 20.1, `root valid for ${years} years`);

  const forgeRoot = forge.pki.certificateFromPem(root.certPem);
  const bc = forgeRoot.getExtension('basicConstraints') as { cA: boolean; critical: boolean };
  assert.equal(bc.cA, true);
  assert.equal(bc.critical, true);
  const ku = forgeRoot.getExtension('keyUsage') as Record<string, boolean>;
  assert.equal(ku.keyCertSign, true);
  assert.equal(ku.cRLSign, true);
  assert.equal(ku.digitalSignature, false);
});

test('root CA: validityDays is honoured', () => {
  const short = new crypto.X509Certificate(createRootCA('c', { validityDays: 10 }).certPem);
  const days = (Date.parse(short.validTo) - Date.now()) / 86_400_000;
  assert.ok(Math.abs(days - 10) < 0.01, `valid for ${days} days`);
});

test('CertificateAuthority refuses a key that does not belong to the certificate', () => {
  const other = createRootCA(clusterId);
  assert.throws(() => new CertificateAuthority({ certPem: root.certPem, keyPem: other.keyPem }), /does not match/);
});

test('issued worker certificate: identity, SANs, usages, validity, chains to the root', () => {
  const nodeId = newId();
  const before = Date.now();
  const issued = issue({ nodeId, dnsNames: ['node1.example.com'], ipAddresses: ['10.0.0.5', '2001:db8::1'] });
  const x = new crypto.X509Certificate(issued.certPem);

  assert.deepEqual(subjectOf(x), [`CN=${nodeId}`, `O=${clusterId}`, 'OU=hush-worker']);
  assert.equal(x.issuer, rootX.subject);
  assert.equal(x.subjectAltName, 'DNS:hush-worker, DNS:node1.example.com, IP Address:10.0.0.5, IP Address:2001:DB8:0:0:0:0:0:1');
  assert.equal(x.ca, false);
  assert.deepEqual([...(x.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // serverAuth, clientAuth
  const ku = forge.pki.certificateFromPem(issued.certPem).getExtension('keyUsage') as Record<string, boolean>;
  assert.deepEqual([ku.digitalSignature, ku.keyEncipherment, ku.keyCertSign], [true, true, false]);

  assert.equal(x.verify(rootX.publicKey), true);
  assert.equal(x.checkIssued(rootX), true);
  assert.equal(x.checkPrivateKey(crypto.createPrivateKey(nodeKey)), true, 'certifies the CSR key');

  const notBefore = Date.parse(x.validFrom);
  const notAfter = Date.parse(x.validTo);
  assert.ok(notBefore <= before && notBefore >= before - MINUTE - 1000, 'backdated by a minute for clock skew');
  assert.ok(Math.abs(notAfter - (before + 24 * HOUR)) <= MINUTE, 'expires after the requested duration');
  assert.equal(issued.notAfter.getTime(), notAfter);

  assert.match(issued.serial, /^[0-9a-f]{32}$/);
  assert.equal(issued.serial, x.serialNumber.toLowerCase());
  assert.notEqual(issue().serial, issued.serial);
});

test('issued manager certificate carries the hush-manager name', () => {
  const x = new crypto.X509Certificate(issue({ role: 'manager' }).certPem);
  assert.ok(x.subject.split('\n').includes('OU=hush-manager'));
  assert.equal(x.subjectAltName, 'DNS:hush-manager');
  assert.equal(x.checkHost('hush-manager'), 'hush-manager');
  assert.equal(new crypto.X509Certificate(issue({ role: 'worker' }).certPem).checkHost('hush-manager'), undefined);
});

test('identityFromCertificate agrees with issue()', () => {
  const nodeId = newId();
  const issued = issue({ nodeId, role: 'manager' });
  assert.deepEqual(identityFromCertificate(issued.certPem), {
    nodeId,
    role: 'manager',
    clusterId,
    serial: issued.serial,
    notAfter: issued.notAfter,
  });
  // Many serials, to cover leading hex digits of every kind.
  for (let i = 0; i < 20; i++) {
    const s = issue();
    assert.equal(identityFromCertificate(new crypto.X509Certificate(s.certPem).raw)?.serial, s.serial);
  }
});

test("the CSR's subject is ignored", () => {
  const key = forge.pki.privateKeyFromPem(nodeKey) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([
    { name: 'commonName', value: 'root' },
    { name: 'organizationalUnitName', value: 'hush-manager' },
    { name: 'organizationName', value: 'another-cluster' },
  ]);
  csr.sign(key, forge.md.sha256.create());
  const nodeId = newId();
  const x = new crypto.X509Certificate(issue({ csrPem: forge.pki.certificationRequestToPem(csr), nodeId }).certPem);
  assert.deepEqual(subjectOf(x), [`CN=${nodeId}`, `O=${clusterId}`, 'OU=hush-worker']);
});

// Rewrites a CSR: edit its CertificationRequestInfo, optionally re-sign it natively.
function rewriteCsr(
  pem: string,
  edit: (info: forge.asn1.Asn1[]) => void,
  resign?: { key: crypto.KeyObject; sigOid: string; params: boolean },
): string {
  const A = forge.asn1;
  const csr = A.fromDer(forge.pem.decode(pem)[0].body);
  const parts = csr.value as forge.asn1.Asn1[];
  edit(parts[0].value as forge.asn1.Asn1[]);
  if (resign) {
    const sig = crypto.sign('sha256', Buffer.from(A.toDer(parts[0]).getBytes(), 'binary'), resign.key);
    parts[1] = A.create(A.Class.UNIVERSAL, A.Type.SEQUENCE, true, [
      A.create(A.Class.UNIVERSAL, A.Type.OID, false, A.oidToDer(resign.sigOid).getBytes()),
      ...(resign.params ? [A.create(A.Class.UNIVERSAL, A.Type.NULL, false, '')] : []),
    ]);
    parts[2] = A.create(A.Class.UNIVERSAL, A.Type.BITSTRING, false, '\x00' + sig.toString('binary'));
  }
  return forge.pem.encode({ type: 'CERTIFICATE REQUEST', body: A.toDer(csr).getBytes() });
}

const spkiAsn1 = (key: crypto.KeyObject) =>
  forge.asn1.fromDer(crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('binary'));

test('bad CSRs are rejected with a one-line reason', () => {
  const otherKey = crypto.createPrivateKey(generateNodeKey());
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const cases: [string, string, RegExp][] = [
    ['garbage', 'hello', /not a PEM-encoded PKCS#10 request/],
    ['empty', '', /not a PEM-encoded PKCS#10 request/],
    ['a certificate', root.certPem, /not a PEM-encoded PKCS#10 request/],
    ['truncated', csrPem.slice(0, 200) + '\n-----END CERTIFICATE REQUEST-----\n', /not a PEM-encoded/],
    ['someone else\'s key', rewriteCsr(csrPem, (info) => { info[2] = spkiAsn1(otherKey); }), /signature does not verify/],
    ['1024-bit key', createCsr(small.export({ type: 'pkcs8', format: 'pem' }) as string), /RSA key must be at least 2048 bits/],
    [
      'EC key',
      rewriteCsr(csrPem, (info) => { info[2] = spkiAsn1(ec); }, { key: ec, sigOid: '1.2.840.10045.4.3.2', params: false }),
      /public key must be RSA/,
    ],
    [
      'SHA-1 signature',
      rewriteCsr(csrPem, () => {}, { key: crypto.createPrivateKey(nodeKey), sigOid: forge.pki.oids.sha1WithRSAEncryption, params: true }),
      /unsupported signature algorithm/,
    ],
  ];
  for (const [name, pem, reason] of cases) {
    assert.throws(() => issue({ csrPem: pem }), (e: unknown) => {
      assert.ok(e instanceof HushError, name);
      assert.match(e.message, /^invalid certificate signing request: [^\n]+$/, name);
      assert.match(e.message, reason, name);
      return true;
    }, name);
  }
  // Sanity: the rewrite helper itself produces valid CSRs when nothing is changed.
  assert.doesNotThrow(() => issue({ csrPem: rewriteCsr(csrPem, () => {}) }));
});

test('bad issue parameters are rejected', () => {
  assert.throws(() => issue({ role: 'admin' as 'worker' }), /invalid node role/);
  assert.throws(() => issue({ validityMs: 0 }), /validity must be positive/);
  assert.throws(() => issue({ validityMs: NaN }), /validity must be positive/);
  assert.throws(() => issue({ nodeId: '' }), /invalid node id/);
  assert.throws(() => issue({ nodeId: 'a\nOU=hush-manager' }), /invalid node id/);
  assert.throws(() => issue({ clusterId: 'a,b' }), /invalid cluster id/);
  assert.throws(() => createRootCA(''), /invalid cluster id/);
  assert.throws(() => issue({ ipAddresses: ['10.0.0.256'] }), /invalid IP address/);
  assert.throws(() => issue({ dnsNames: ['*.example.com'] }), /invalid DNS name/);
});

test('a certificate from a different root does not verify', () => {
  const foreign = new crypto.X509Certificate(issue({}, foreignCA).certPem);
  assert.equal(foreign.issuer, rootX.subject, 'same issuer name');
  assert.equal(foreign.verify(rootX.publicKey), false);
  assert.equal(foreign.checkIssued(rootX), false);
});

// How fast issue() is (its median time) is measured by bench/ca-issue.ts.
test('issue() again and again: each certificate its own serial, each signed by the root and only by it', () => {
  const certs = Array.from({ length: 30 }, () => new crypto.X509Certificate(issue().certPem));
  const foreignKey = new crypto.X509Certificate(foreignCA.certPem).publicKey;
  assert.equal(new Set(certs.map((x) => x.serialNumber)).size, certs.length, 'distinct serials');
  for (const x of certs) {
    assert.ok(x.verify(rootX.publicKey), `certificate ${x.serialNumber} verifies with the root key`);
    assert.ok(x.checkIssued(rootX));
    assert.equal(x.verify(foreignKey), false, 'not by another root of the same name');
  }
});

test('mTLS: a manager certificate serves, a worker certificate from this CA authenticates', async (t) => {
  const managerKey = generateNodeKey();
  const manager = issue({ csrPem: createCsr(managerKey), role: 'manager' });
  const server = tls.createServer({
    key: managerKey,
    cert: manager.certPem,
    ca: root.certPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  const accepted: tls.TLSSocket[] = [];
  server.on('secureConnection', (s) => { accepted.push(s); s.on('error', () => {}); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const clients: tls.TLSSocket[] = [];
  after(() => {
    for (const s of [...clients, ...accepted]) s.destroy();
    server.close();
  });

  // Connects with the given client certificate; resolves with the server's view of the client.
  const connect = (key: string, cert: string) => {
    const serverSide = new Promise<tls.TLSSocket>((resolve) => server.once('secureConnection', resolve));
    const client = tls.connect({ host: '127.0.0.1', port, servername: 'hush-manager', ca: root.certPem, key, cert });
    clients.push(client);
    const clientSide = new Promise<tls.TLSSocket>((resolve, reject) => {
      client.once('secureConnect', () => resolve(client));
      client.once('error', reject);
    });
    return Promise.all([clientSide, serverSide]);
  };

  const workerKey = generateNodeKey();
  const worker = issue({ csrPem: createCsr(workerKey), role: 'worker' });
  const [client, ours] = await connect(workerKey, worker.certPem);
  assert.equal(client.authorized, true, 'client trusts the manager certificate for hush-manager');
  assert.equal(ours.authorized, true, String(ours.authorizationError));
  const peer = identityFromCertificate(ours.getPeerCertificate().raw);
  assert.equal(peer?.role, 'worker');
  assert.equal(peer?.serial, worker.serial);

  const foreignKey = generateNodeKey();
  const foreign = issue({ csrPem: createCsr(foreignKey), role: 'worker' }, foreignCA);
  const [, theirs] = await connect(foreignKey, foreign.certPem);
  assert.equal(theirs.authorized, false);
  assert.ok(theirs.authorizationError, 'has an authorization error');
  t.diagnostic(`foreign worker: ${String(theirs.authorizationError)}`);
});

test('mTLS: a worker certificate cannot pose as a manager', async () => {
  const workerKey = generateNodeKey();
  const worker = issue({ csrPem: createCsr(workerKey), role: 'worker' });
  const server = tls.createServer({ key: workerKey, cert: worker.certPem });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const err = await new Promise<Error>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, servername: 'hush-manager', ca: root.certPem });
      c.once('secureConnect', () => { c.destroy(); reject(new Error('connected')); });
      c.once('error', (e) => { c.destroy(); resolve(e); });
    });
    assert.match((err as NodeJS.ErrnoException).code ?? '', /ERR_TLS_CERT_ALTNAME_INVALID/);
  } finally {
    server.close();
  }
});
