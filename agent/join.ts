// Joining a cluster: fetch the root CA and pin it by the digest in the join token,
// generate the node key here (it never leaves the node), send only a CSR.
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { hushProto } from '../proto/load.js';
import type { CAClient } from '../proto/gen/hush/v1/CA.js';
import type { IssueNodeCertificateResponse__Output } from '../proto/gen/hush/v1/IssueNodeCertificateResponse.js';
import { createCsr, generateNodeKey, renewalProofPayload } from '../common/certs.js';
import { sign } from 'node:crypto';
import { caDigest, parseJoinToken } from '../common/join-token.js';
import { bootstrapCredentials, CHANNEL_OPTIONS, joinerCredentials, nodeCredentials, type NodeCredentials } from './channel.js';

type CACtor = new (addr: string, creds: grpc.ChannelCredentials, opts: grpc.ChannelOptions) => CAClient;

function caClient(addr: string, creds: grpc.ChannelCredentials): CAClient {
  return new (hushProto().CA as unknown as CACtor)(addr, creds, CHANNEL_OPTIONS);
}

function unaryCall<Res>(fn: (cb: grpc.requestCallback<Res>) => void): Promise<Res> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res as Res))));
}

const deadline = (ms = 15_000) => ({ deadline: Date.now() + ms });

/** The cluster root, verified against the CA digest in the join token. */
export async function fetchPinnedRoot(managerAddr: string, token: string): Promise<string> {
  const { caDigest: want } = parseJoinToken(token);
  const client = caClient(managerAddr, bootstrapCredentials());
  try {
    const res = await unaryCall<{ certificatePem: string }>((cb) => client.GetRootCACertificate({}, new grpc.Metadata(), deadline(), cb));
    const der = new X509Certificate(res.certificatePem).raw;
    if (caDigest(der) !== want) throw new Error(`the manager at ${managerAddr} presented a root CA that does not match the join token`);
    return res.certificatePem;
  } finally {
    client.close();
  }
}

export async function joinCluster(managerAddr: string, token: string, hostname: string, labels: Record<string, string> = {}): Promise<NodeCredentials> {
  const caPem = await fetchPinnedRoot(managerAddr, token);
  const keyPem = generateNodeKey();
  const client = caClient(managerAddr, joinerCredentials(caPem));
  try {
    const res = await unaryCall<IssueNodeCertificateResponse__Output>((cb) =>
      client.IssueNodeCertificate({ csrPem: createCsr(keyPem), token, hostname, labels }, new grpc.Metadata(), deadline(), cb));
    return { nodeId: res.nodeId, role: res.role as NodeCredentials['role'], keyPem, certPem: res.certificatePem, caPem };
  } finally {
    client.close();
  }
}

/** A new certificate for the same node id and role, authenticated by the current one. */
export async function renewCertificate(managerAddr: string, current: NodeCredentials): Promise<NodeCredentials> {
  const keyPem = generateNodeKey();
  const client = caClient(managerAddr, nodeCredentials(current));
  try {
    const res = await unaryCall<IssueNodeCertificateResponse__Output>((cb) =>
      client.RenewNodeCertificate({ csrPem: createCsr(keyPem) }, new grpc.Metadata(), deadline(), cb));
    return { nodeId: res.nodeId, role: res.role as NodeCredentials['role'], keyPem, certPem: res.certificatePem, caPem: res.rootCaPem };
  } finally {
    client.close();
  }
}

/**
 * Renewal once the certificate has expired (mutual TLS is no longer possible): TLS to a manager of
 * the known root without a client certificate, sending the expired certificate and a signature of
 * the CSR with its key as proof. The manager accepts it within one validity period of the expiry.
 */
export async function renewExpiredCertificate(managerAddr: string, current: NodeCredentials): Promise<NodeCredentials> {
  const keyPem = generateNodeKey();
  const csrPem = createCsr(keyPem);
  const proof = sign('sha256', renewalProofPayload(csrPem), current.keyPem);
  const client = caClient(managerAddr, joinerCredentials(current.caPem));
  try {
    const res = await unaryCall<IssueNodeCertificateResponse__Output>((cb) =>
      client.RenewNodeCertificate({ csrPem, expiredCertificatePem: current.certPem, proof }, new grpc.Metadata(), deadline(), cb));
    return { nodeId: res.nodeId, role: res.role as NodeCredentials['role'], keyPem, certPem: res.certificatePem, caPem: res.rootCaPem };
  } finally {
    client.close();
  }
}
