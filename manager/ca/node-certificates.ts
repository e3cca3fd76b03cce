// The CA RPCs: the root certificate for joiners, node certificates for a valid
// join token (the node's key never leaves the node: only its CSR does), renewal.
import { isIP } from 'node:net';
import { newId } from '../../common/ids.js';
import { invalidArgument, permissionDenied } from '../../common/errors.js';
import { X509Certificate, verify as verifySignature } from 'node:crypto';
import { identityFromCertificate, renewalProofPayload, type PeerIdentity } from '../../common/certs.js';
import type { Cluster } from '../cluster/cluster.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { NodeRoleName } from '../state/records.js';
import { validateLabels } from '../secrets/validate.js';
import { caDigest, parseJoinToken, tokenMatches } from '../../common/join-token.js';
import type { Logger } from '../../common/log.js';
import { quote } from '../../common/printable.js';
import { HOSTNAME } from '../refs.js';

export interface IssuedNodeCertificate {
  nodeId: string;
  certificatePem: string;
  rootCaPem: string;
  role: NodeRoleName;
}

export class NodeCertificates {
  constructor(private readonly cluster: Cluster, private readonly nodes: NodeRegistry, private readonly log: Logger,
    /** Why a node identity is refused (removed node, revoked certificate), as for every other RPC. */
    private readonly refusal: (id: PeerIdentity) => Promise<string | undefined> = async () => undefined) {}

  rootCertificate(): string {
    return this.cluster.ca.certPem;
  }

  /** The role a join token grants, compared in constant time against both tokens. */
  roleForToken(token: string): NodeRoleName {
    const parsed = parseJoinToken(token);
    if (!tokenMatches(parsed.caDigest, caDigest(this.cluster.ca.certDer))) {
      throw permissionDenied('join token is for a different CA (another cluster, or the CA was rotated)');
    }
    const worker = tokenMatches(token, this.cluster.joinToken('worker'));
    const manager = tokenMatches(token, this.cluster.joinToken('manager'));
    if (worker) return 'worker';
    if (manager) return 'manager';
    throw permissionDenied('invalid join token (it may have been rotated)');
  }

  async issue(req: { csrPem: string; token: string; hostname: string; labels: Record<string, string> }): Promise<IssuedNodeCertificate> {
    const role = this.roleForToken(req.token);
    if (!HOSTNAME.test(req.hostname) && !isIP(req.hostname)) throw invalidArgument(`invalid hostname ${quote(req.hostname)}`);
    validateLabels(req.labels);
    const nodeId = newId();
    const cert = this.cluster.ca.issue({
      csrPem: req.csrPem, nodeId, role, clusterId: this.cluster.id, validityMs: this.cluster.record.certExpiryMs,
    });
    await this.nodes.add({
      id: nodeId, role, hostname: req.hostname, labels: req.labels, certSerial: cert.serial,
      certNotAfterMs: cert.notAfter.getTime(), state: 'unknown', availability: 'active', createdAtMs: Date.now(),
    });
    this.log.info({ nodeId, role, hostname: req.hostname, serial: cert.serial }, 'node joined');
    return { nodeId, certificatePem: cert.certPem, rootCaPem: this.cluster.ca.certPem, role };
  }

  /**
   * Renewal for a node whose certificate has expired (it can no longer do mutual TLS): the expired
   * certificate must be this CA's, of a node still in the cluster and not revoked, expired for at
   * most one validity period, and the caller must prove it holds its key by signing the CSR.
   */
  async renewExpired(expiredPem: string, proof: Buffer, csrPem: string): Promise<IssuedNodeCertificate> {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(expiredPem);
    } catch {
      throw invalidArgument('expired_certificate_pem is not a certificate');
    }
    const caCert = new X509Certificate(this.cluster.ca.certPem);
    const identity = identityFromCertificate(cert.raw);
    if (!identity || !cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
      throw permissionDenied('the certificate was not issued by this cluster\'s CA');
    }
    if (identity.clusterId !== this.cluster.id) throw permissionDenied(`certificate belongs to another cluster (${identity.clusterId})`);
    const expiredFor = Date.now() - identity.notAfter.getTime();
    if (expiredFor <= 0) throw permissionDenied('the certificate has not expired: renew it over mutual TLS with it');
    if (expiredFor > this.cluster.record.certExpiryMs) throw permissionDenied('the certificate expired too long ago: join the node again with a token');
    if (!verifySignature('sha256', renewalProofPayload(csrPem), cert.publicKey, proof)) {
      throw permissionDenied('the proof does not verify with the expired certificate\'s key');
    }
    const why = await this.refusal(identity);
    if (why) throw permissionDenied(why);
    this.log.info({ nodeId: identity.nodeId, expiredSerial: identity.serial }, 'renewing an expired node certificate');
    return this.renew(identity, csrPem);
  }

  /** Same node id and role, new key and validity; authenticated by the current certificate. */
  async renew(caller: PeerIdentity, csrPem: string): Promise<IssuedNodeCertificate> {
    const node = await this.nodes.find(caller.nodeId);
    if (!node) throw permissionDenied(`node ${caller.nodeId} is not a member of this cluster`);
    const cert = this.cluster.ca.issue({
      csrPem, nodeId: node.id, role: node.role, clusterId: this.cluster.id, validityMs: this.cluster.record.certExpiryMs,
    });
    await this.nodes.update(node.id, (n) => ({ ...n, certSerial: cert.serial, certNotAfterMs: cert.notAfter.getTime(), previousCertSerial: caller.serial }));
    this.log.info({ nodeId: node.id, serial: cert.serial }, 'node certificate renewed');
    return { nodeId: node.id, certificatePem: cert.certPem, rootCaPem: this.cluster.ca.certPem, role: node.role };
  }
}
