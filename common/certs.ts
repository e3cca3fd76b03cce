// Node-side certificate helpers, shared by the agent and the manager (so nothing from manager/ here).
import * as crypto from 'node:crypto';
import forge from 'node-forge';

export type NodeRole = 'worker' | 'manager';

// The role is carried in the certificate's OU.
export const ROLE_OU: Record<NodeRole, string> = { worker: 'hush-worker', manager: 'hush-manager' };

export interface PeerIdentity {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  serial: string; // lowercase hex, as returned by CertificateAuthority.issue()
  notAfter: Date;
}

// RSA 2048, PKCS#8 PEM, unencrypted (the caller decides how to store it).
export function generateNodeKey(): string {
  return crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }).privateKey;
}

// forge's own RSA signing is pure JS (~50 ms a signature); these two let forge build the
// structure while OpenSSL does the signing.
export function forgePublicKey(key: crypto.KeyObject): forge.pki.rsa.PublicKey {
  const pub = key.type === 'public' ? key : crypto.createPublicKey(key);
  const pem = pub.export({ type: 'spki', format: 'pem' }) as string;
  return forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
}

// Present in node-forge 1.x but missing from @types/node-forge.
export const forgeInternals = forge.pki as unknown as {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
  getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1;
};

// Signs forge ASN.1 with sha256WithRSAEncryption; returns the signature as a forge binary string.
export function signAsn1(asn1: forge.asn1.Asn1, key: crypto.KeyObject): string {
  const der = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  return crypto.sign('sha256', der, key).toString('binary');
}

// A PKCS#10 request for the key. The subject is a placeholder: the CA ignores it and names the
// node itself.
export function createCsr(keyPem: string | crypto.KeyObject): string {
  const key = typeof keyPem === 'string' ? crypto.createPrivateKey(keyPem) : keyPem;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forgePublicKey(key);
  csr.setSubject([{ name: 'commonName', value: 'hush-node' }]);
  const sha256WithRSA = forge.pki.oids.sha256WithRSAEncryption;
  csr.siginfo.algorithmOid = sha256WithRSA;
  csr.signatureOid = sha256WithRSA;
  const info = forgeInternals.getCertificationRequestInfo(csr);
  csr.signature = signAsn1(info, key);
  // Keep the exact signed bytes; certificationRequestToPem reuses them instead of rebuilding.
  csr.certificationRequestInfo = info;
  return forge.pki.certificationRequestToPem(csr);
}

// The identity a hush certificate asserts, or undefined if it is not a hush node certificate.
// This does not check the chain: only call it on a certificate TLS has already verified.
export function identityFromCertificate(cert: Buffer | string): PeerIdentity | undefined {
  let x: crypto.X509Certificate;
  try {
    x = new crypto.X509Certificate(cert);
  } catch {
    return undefined;
  }
  const fields = subjectFields(x.subject);
  if (!fields) return undefined;
  const nodeId = single(fields, 'CN');
  const ou = single(fields, 'OU');
  const clusterId = single(fields, 'O');
  const role = (Object.keys(ROLE_OU) as NodeRole[]).find((r) => ROLE_OU[r] === ou);
  if (!nodeId || !clusterId || !role) return undefined;
  return { nodeId, role, clusterId, serial: x.serialNumber.toLowerCase(), notAfter: new Date(x.validTo) };
}

// X509Certificate.subject is one "KEY=value" per line; OpenSSL escapes control characters in
// values, so a value cannot forge an extra line.
function subjectFields(subject: string): Map<string, string[]> | undefined {
  const fields = new Map<string, string[]>();
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const k = line.slice(0, eq);
    fields.set(k, [...(fields.get(k) ?? []), line.slice(eq + 1)]);
  }
  return fields;
}

// A field that appears more than once is ambiguous: treat it as missing.
function single(fields: Map<string, string[]>, key: string): string | undefined {
  const v = fields.get(key);
  return v && v.length === 1 && v[0] !== '' ? v[0] : undefined;
}

/** What a node with an expired certificate signs to renew it: proof it holds that certificate's key. */
export function renewalProofPayload(csrPem: string): Buffer {
  return Buffer.concat([Buffer.from('hush-renew-v1\0'), Buffer.from(csrPem)]);
}
