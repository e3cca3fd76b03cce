// The unlocked cluster: its record, CA, join tokens and the manager's own TLS identity.
import { hostname } from 'node:os';
import { X509Certificate, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { Store } from '../store/store.js';
import { CertificateAuthority } from '../ca/ca.js';
import { newJoinToken } from '../../common/join-token.js';
import { createCsr } from '../../common/certs.js';
import { privateKeyPem } from '../crypto/key-pem.js';
import { invalidArgument, unavailable } from '../../common/errors.js';
import { open, seal } from '../crypto/seal.js';
import { decode, encode, keys, type CARecord, type ClusterRecord, type ManagerIdentityRecord, type NodeRoleName } from '../state/records.js';

const CA_KEY_CONTEXT = 'ca/key';
const IDENTITY_KEY_CONTEXT = 'manager-identity/key';
const tokenContext = (role: NodeRoleName) => `cluster/join-token/${role}`;

/** The manager's own TLS identity. The key is a KeyObject, never a JS string (strings cannot be wiped). */
export interface ManagerIdentity {
  id: string;
  certPem: string;
  key: KeyObject;
}

/** Opens a sealed PEM private key into a KeyObject; the plaintext PEM bytes are zeroed. */
function openKey(dek: Buffer, context: string, sealed: string): KeyObject {
  const pem = open(dek, context, Buffer.from(sealed, 'base64'));
  try {
    return createPrivateKey(pem);
  } finally {
    pem.fill(0);
  }
}

function sealKey(dek: Buffer, context: string, key: KeyObject): string {
  const pem = privateKeyPem(key);
  try {
    return seal(dek, context, pem).toString('base64');
  } finally {
    pem.fill(0);
  }
}

export function sealCAKey(dek: Buffer, keyPem: string): string {
  const pem = Buffer.from(keyPem);
  try {
    return seal(dek, CA_KEY_CONTEXT, pem).toString('base64');
  } finally {
    pem.fill(0);
  }
}

export function sealJoinToken(dek: Buffer, role: NodeRoleName, token: string): string {
  return seal(dek, tokenContext(role), Buffer.from(token)).toString('base64');
}

/** Issues the manager's own server/client certificate (role manager, SAN hush-manager). */
export function issueManagerIdentity(ca: CertificateAuthority, dek: Buffer, cluster: { id: string; certExpiryMs: number; listenAddr: string }, id: string): { identity: ManagerIdentity; record: ManagerIdentityRecord } {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const host = cluster.listenAddr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const ips = ['127.0.0.1', '::1', ...(isIP(host) && host !== '0.0.0.0' && host !== '::' ? [host] : [])];
  const dns = ['localhost', hostname(), ...(!isIP(host) && host ? [host] : [])];
  const { certPem } = ca.issue({
    csrPem: createCsr(key), nodeId: id, role: 'manager', clusterId: cluster.id,
    validityMs: cluster.certExpiryMs, dnsNames: [...new Set(dns)], ipAddresses: [...new Set(ips)],
  });
  return {
    identity: { id, certPem, key },
    record: { id, certPem, sealedKey: sealKey(dek, IDENTITY_KEY_CONTEXT, key) },
  };
}

export class Cluster {
  private constructor(
    private readonly store: Store,
    private readonly dek: Buffer,
    /** Where this manager's identity is kept: its own key, or a single-manager cluster's old one. */
    private readonly identityKey: string,
    /** The address this manager's certificate names (its own, or the cluster's at init). */
    private readonly identityAddr: string | undefined,
    public record: ClusterRecord,
    public readonly ca: CertificateAuthority,
    public identity: ManagerIdentity,
  ) {}

  /**
   * @param managerId this manager's id (manager-id.ts); undefined: a cluster's only, older manager
   * @param addr the host:port this manager listens on, named in its renewed certificates
   */
  static async load(store: Store, dek: Buffer, managerId?: string, addr?: string): Promise<Cluster> {
    const identityKey = managerId ? keys.managerIdentityOf(managerId) : keys.managerIdentity;
    const [c, ca, mi] = await Promise.all([store.get(keys.cluster), store.get(keys.ca), store.get(identityKey)]);
    if (!c || !ca) throw new Error('the store holds no initialised cluster');
    if (!mi) throw new Error(`the store holds no identity for manager ${managerId ?? ''}: was it removed with \`hush manager rm\`?`);
    const caRecord = decode<CARecord>(ca.value);
    const authority = new CertificateAuthority({ certPem: caRecord.certPem, key: openKey(dek, CA_KEY_CONTEXT, caRecord.sealedKey) });
    const idRecord = decode<ManagerIdentityRecord>(mi.value);
    const identity = { id: idRecord.id, certPem: idRecord.certPem, key: openKey(dek, IDENTITY_KEY_CONTEXT, idRecord.sealedKey) };
    return new Cluster(store, dek, identityKey, addr, decode<ClusterRecord>(c.value), authority, identity);
  }

  get id(): string {
    return this.record.id;
  }

  joinToken(role: NodeRoleName): string {
    return open(this.dek, tokenContext(role), Buffer.from(this.record.sealedJoinTokens[role], 'base64')).toString();
  }

  /** Replaces a role's join token; the old one stops working at once. Nodes already joined keep their certs. */
  async rotateJoinToken(role: NodeRoleName): Promise<string> {
    if (role !== 'worker' && role !== 'manager') throw invalidArgument(`unknown role ${JSON.stringify(role)}: worker or manager`);
    const token = newJoinToken(this.ca.certDer);
    const kv = await this.store.get(keys.cluster);
    if (!kv) throw new Error('cluster record vanished');
    const record = decode<ClusterRecord>(kv.value);
    const next = { ...record, sealedJoinTokens: { ...record.sealedJoinTokens, [role]: sealJoinToken(this.dek, role, token) } };
    const result = await this.store.txn([{ key: keys.cluster, modRev: kv.modRev }], [{ type: 'put', key: keys.cluster, value: encode(next) }]);
    if (!result.ok) throw unavailable('the cluster record is being changed concurrently, try again');
    this.record = next;
    return token;
  }

  /** Re-issues the manager's own certificate once half of its validity has passed. */
  async renewIdentityIfDue(now = Date.now()): Promise<boolean> {
    const cert = new X509Certificate(this.identity.certPem);
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (now < from + (to - from) / 2) return false;
    const cluster = { ...this.record, listenAddr: this.identityAddr ?? this.record.listenAddr };
    const { identity, record } = issueManagerIdentity(this.ca, this.dek, cluster, this.identity.id);
    await this.store.txn([], [{ type: 'put', key: this.identityKey, value: encode(record) }]);
    this.identity = identity;
    return true;
  }
}
