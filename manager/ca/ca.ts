// The cluster's root CA: creates the root certificate and issues node certificates from CSRs.
import * as crypto from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { forgeInternals, forgePublicKey, ROLE_OU, signAsn1, type NodeRole } from '../../common/certs.js';
import { invalidArgument } from '../../common/errors.js';

export type { NodeRole } from '../../common/certs.js';

export interface CAMaterial {
  certPem: string;
  keyPem: string; // PKCS#8, plaintext
}

/** What the CA is built from: the key as a KeyObject, or PEM bytes that the caller zeroes afterwards. */
export interface CAKeyMaterial {
  certPem: string;
  key: crypto.KeyObject | Buffer | string;
}

export interface IssueRequest {
  csrPem: string;
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  validityMs: number;
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface IssuedCertificate {
  certPem: string;
  serial: string; // lowercase hex, 32 digits
  notAfter: Date;
}

const MAX_CSR_PEM_CHARS = 64 * 1024;
const MIN_RSA_BITS = 2048;
const CLOCK_SKEW_MS = 60_000;
// Ids go into the subject; characters OpenSSL would escape would not read back unchanged.
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
// Plain hostnames only (no wildcards): a node certificate names one node.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

// CSR signature algorithms we accept, mapped to the digest for crypto.verify.
const CSR_SIG_HASHES: Record<string, string> = {
  [forge.pki.oids.sha256WithRSAEncryption]: 'sha256',
  [forge.pki.oids.sha384WithRSAEncryption]: 'sha384',
  [forge.pki.oids.sha512WithRSAEncryption]: 'sha512',
};

export function createRootCA(clusterId: string, opts: { validityDays?: number } = {}): CAMaterial {
  if (!NAME.test(clusterId)) throw invalidArgument('invalid cluster id');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forgePublicKey(publicKey);
  cert.serialNumber = randomSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
  const notAfter = new Date(now);
  if (opts.validityDays !== undefined) notAfter.setTime(now + opts.validityDays * 86_400_000);
  else notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 20);
  cert.validity.notAfter = notAfter;
  const name = [
    { name: 'commonName', value: 'hush-root-ca' },
    { name: 'organizationName', value: clusterId },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    // pathLen 0: the root signs node certificates only, never another CA.
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return {
    certPem: signCertificate(cert, privateKey),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

export class CertificateAuthority {
  readonly certPem: string;
  readonly certDer: Buffer;
  private readonly key: crypto.KeyObject;
  private readonly issuer: forge.pki.CertificateField[];
  private readonly keyId: string | undefined; // the root's subjectKeyIdentifier, binary string

  constructor(m: CAMaterial | CAKeyMaterial) {
    const x = new crypto.X509Certificate(m.certPem);
    const key = 'key' in m ? m.key : m.keyPem;
    this.key = key instanceof crypto.KeyObject ? key : crypto.createPrivateKey(key);
    if (!x.checkPrivateKey(this.key)) throw new Error('CA key does not match CA certificate');
    this.certPem = x.toString();
    this.certDer = x.raw;
    const root = forge.pki.certificateFromPem(m.certPem);
    this.issuer = root.subject.attributes;
    const ski = root.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
    this.keyId = ski?.subjectKeyIdentifier ? forge.util.hexToBytes(ski.subjectKeyIdentifier) : undefined;
  }

  issue(req: IssueRequest): IssuedCertificate {
    const publicKey = parseCsr(req.csrPem);
    if (!NAME.test(req.nodeId)) throw invalidArgument('invalid node id');
    if (!NAME.test(req.clusterId)) throw invalidArgument('invalid cluster id');
    if (!Object.hasOwn(ROLE_OU, req.role)) throw invalidArgument(`invalid node role: ${String(req.role)}`);
    if (!Number.isFinite(req.validityMs) || req.validityMs <= 0) throw invalidArgument('validity must be positive');
    for (const ip of req.ipAddresses ?? []) {
      if (!isIP(ip)) throw invalidArgument(`invalid IP address: ${ip}`);
    }
    for (const dns of req.dnsNames ?? []) {
      if (!DNS_NAME.test(dns)) throw invalidArgument(`invalid DNS name: ${dns}`);
    }

    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = randomSerial();
    const now = Date.now();
    cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
    // Certificates carry whole seconds; report the time actually encoded.
    const notAfter = new Date(Math.floor((now + req.validityMs) / 1000) * 1000);
    cert.validity.notAfter = notAfter;
    // The CSR's subject is ignored: the CA alone decides who the node is.
    cert.setSubject([
      { name: 'commonName', value: req.nodeId },
      { name: 'organizationalUnitName', value: ROLE_OU[req.role] },
      { name: 'organizationName', value: req.clusterId },
    ]);
    cert.setIssuer(this.issuer);
    const altNames = [
      { type: 2, value: req.role === 'manager' ? 'hush-manager' : 'hush-worker' },
      ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
      ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
    ];
    cert.setExtensions([
      { name: 'basicConstraints', critical: true, cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames },
      ...(this.keyId ? [{ name: 'authorityKeyIdentifier', keyIdentifier: this.keyId }] : []),
    ]);
    return { certPem: signCertificate(cert, this.key), serial: cert.serialNumber, notAfter };
  }
}

// 16 random bytes with the top bit cleared (positive INTEGER) and the next bit set, so the first
// byte is never 0x00: a leading zero would be non-minimal DER, which OpenSSL rejects, and every
// serial has the same 32-digit hex form.
function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x40;
  return b.toString('hex');
}

// forge builds the TBSCertificate; OpenSSL signs it (~1 ms instead of forge's ~50 ms in JS).
function signCertificate(cert: forge.pki.Certificate, key: crypto.KeyObject): string {
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.tbsCertificate = forgeInternals.getTBSCertificate(cert);
  cert.signature = signAsn1(cert.tbsCertificate, key);
  return forge.pki.certificateToPem(cert);
}

const badCsr = (reason: string) => invalidArgument(`invalid certificate signing request: ${reason}`);

// Returns the CSR's public key once its self-signature checks out; the rest of the CSR is unused.
function parseCsr(pem: string): forge.pki.rsa.PublicKey {
  if (typeof pem !== 'string' || pem.length > MAX_CSR_PEM_CHARS) throw badCsr('not a PEM-encoded PKCS#10 request');
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem, false, true);
  } catch (e) {
    throw badCsr(/OID is not RSA/.test(String(e)) ? 'public key must be RSA' : 'not a PEM-encoded PKCS#10 request');
  }
  const hash = CSR_SIG_HASHES[csr.signatureOid ?? ''];
  if (!hash) throw badCsr('unsupported signature algorithm');
  const pub = csr.publicKey as forge.pki.rsa.PublicKey;
  if (pub.n.bitLength() < MIN_RSA_BITS) throw badCsr(`RSA key must be at least ${MIN_RSA_BITS} bits`);
  let ok = false;
  try {
    const info = Buffer.from(forge.asn1.toDer(csr.certificationRequestInfo!).getBytes(), 'binary');
    const key = crypto.createPublicKey(forge.pki.publicKeyToPem(pub));
    ok = crypto.verify(hash, info, key, Buffer.from(csr.signature as string, 'binary'));
  } catch {
    ok = false;
  }
  if (!ok) throw badCsr('signature does not verify');
  return pub;
}
