import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import forge from 'node-forge';
import {
  createCsr,
  forgeInternals,
  forgePublicKey,
  generateNodeKey,
  identityFromCertificate,
  signAsn1,
} from './certs.js';

const key = generateNodeKey();
const keyObject = crypto.createPrivateKey(key);

// A self-signed certificate with an arbitrary subject, to feed identityFromCertificate without a CA.
function certWithSubject(subject: forge.pki.CertificateField[]): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublicKey(keyObject);
  cert.serialNumber = '4a0b0c0d0e0f';
  cert.validity.notBefore = new Date(Date.UTC(2024, 0, 1));
  cert.validity.notAfter = new Date(Date.UTC(2030, 5, 15, 12, 30, 0));
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.tbsCertificate = forgeInternals.getTBSCertificate(cert);
  cert.signature = signAsn1(cert.tbsCertificate, keyObject);
  return forge.pki.certificateToPem(cert);
}

const CN = (value: string) => ({ name: 'commonName', value });
const OU = (value: string) => ({ name: 'organizationalUnitName', value });
const O = (value: string) => ({ name: 'organizationName', value });

test('generateNodeKey returns an unencrypted PKCS#8 RSA 2048 key', () => {
  assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(keyObject.asymmetricKeyType, 'rsa');
  assert.equal(keyObject.asymmetricKeyDetails?.modulusLength, 2048);
  assert.notEqual(generateNodeKey(), key);
});

test('createCsr produces a CSR for the key whose signature verifies', () => {
  const pem = createCsr(key);
  assert.match(pem, /^-----BEGIN CERTIFICATE REQUEST-----\r?\n/);
  const csr = forge.pki.certificationRequestFromPem(pem);
  // forge's verifier is independent of the native signing path used to create it.
  assert.equal(csr.verify(), true);
  assert.equal(csr.signatureOid, forge.pki.oids.sha256WithRSAEncryption);
  const expected = crypto.createPublicKey(keyObject).export({ type: 'spki', format: 'pem' });
  assert.equal(forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r/g, ''), expected);
});

test('createCsr with a different key signs with that key', () => {
  const other = generateNodeKey();
  const csr = forge.pki.certificationRequestFromPem(createCsr(other));
  assert.equal(csr.verify(), true);
  const expected = crypto.createPublicKey(other).export({ type: 'spki', format: 'pem' });
  assert.equal(forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r/g, ''), expected);
});

test('identityFromCertificate reads CN, OU, O, serial and expiry from PEM or DER', () => {
  const pem = certWithSubject([CN('node1'), OU('hush-manager'), O('cluster1')]);
  const der = new crypto.X509Certificate(pem).raw;
  for (const input of [pem, der]) {
    assert.deepEqual(identityFromCertificate(input), {
      nodeId: 'node1',
      role: 'manager',
      clusterId: 'cluster1',
      serial: '4a0b0c0d0e0f',
      notAfter: new Date(Date.UTC(2030, 5, 15, 12, 30, 0)),
    });
  }
  const worker = identityFromCertificate(certWithSubject([CN('node2'), OU('hush-worker'), O('c')]));
  assert.equal(worker?.role, 'worker');
  assert.equal(worker?.nodeId, 'node2');
});

test('identityFromCertificate rejects certificates that are not hush node certificates', () => {
  const cases: Record<string, forge.pki.CertificateField[]> = {
    'foreign OU': [CN('node1'), OU('ops'), O('cluster1')],
    'no OU': [CN('node1'), O('cluster1')],
    'no CN': [OU('hush-worker'), O('cluster1')],
    'no O': [CN('node1'), OU('hush-worker')],
    'two CNs': [CN('node1'), CN('node2'), OU('hush-worker'), O('cluster1')],
    'two OUs': [CN('node1'), OU('hush-worker'), OU('hush-manager'), O('cluster1')],
    'root CA subject': [CN('hush-root-ca'), O('cluster1')],
  };
  for (const [name, subject] of Object.entries(cases)) {
    assert.equal(identityFromCertificate(certWithSubject(subject)), undefined, name);
  }
  assert.equal(identityFromCertificate('not a certificate'), undefined);
  assert.equal(identityFromCertificate(Buffer.from('garbage')), undefined);
});
