// `hush manager join`: a new manager for a cluster on etcd. It pins the cluster's root CA by the
// digest in the manager join token, asks an existing manager over TLS for its place (JoinManager),
// and writes its state directory: its id, the etcd settings and TLS files, and its keyring (with
// autolock: the data key as wrapped under the cluster's unlock key, so it starts locked).
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { hushProto } from '../../proto/load.js';
import type { CAClient } from '../../proto/gen/hush/v1/CA.js';
import type { JoinManagerResponse__Output } from '../../proto/gen/hush/v1/JoinManagerResponse.js';
import { X509Certificate } from 'node:crypto';
import { caDigest, parseJoinToken } from '../../common/join-token.js';
import { adoptKeyring, keyringExists, removeKeyring } from '../crypto/keyring.js';
import { writeEtcdSettings, ETCD_TLS_FILES } from '../store/state-config.js';
import { writeManagerId } from './manager-id.js';

export interface JoinManagerOptions {
  managerAddr: string;
  token: string;
  listenAddr: string;
  stateDir: string;
}

export interface JoinedManager {
  managerId: string;
  clusterId: string;
  autolock: boolean;
}

type CACtor = new (addr: string, creds: grpc.ChannelCredentials, opts: grpc.ChannelOptions) => CAClient;

/** Every manager certificate names hush-manager (as the agent checks it too). */
const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'hush-manager', 'grpc.default_authority': 'hush-manager' };
const deadline = () => ({ deadline: Date.now() + 30_000 });

function call<Res>(fn: (cb: grpc.requestCallback<Res>) => void): Promise<Res> {
  return new Promise((resolve, reject) => fn((err, r) => (err ? reject(new Error(err.details || err.message)) : resolve(r!))));
}

/** The cluster's root CA, fetched without trust and accepted only if it matches the token's digest
 *  (nothing secret is sent on that connection). */
async function fetchPinnedRoot(addr: string, token: string): Promise<string> {
  const want = parseJoinToken(token).caDigest;
  const insecure = grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  const client = new (hushProto().CA as unknown as CACtor)(addr, insecure, CHANNEL_OPTIONS);
  try {
    const res = await call<{ certificatePem: string }>((cb) => client.GetRootCACertificate({}, new grpc.Metadata(), deadline(), cb));
    if (caDigest(new X509Certificate(res.certificatePem).raw) !== want) {
      throw new Error(`the manager at ${addr} presented a root CA that does not match the join token`);
    }
    return res.certificatePem;
  } finally {
    client.close();
  }
}

export async function joinManager(opts: JoinManagerOptions): Promise<JoinedManager> {
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  chmodSync(opts.stateDir, 0o700);
  if (keyringExists(opts.stateDir)) throw new Error(`a cluster is already initialised in ${opts.stateDir}`);
  const caPem = await fetchPinnedRoot(opts.managerAddr, opts.token);
  const client = new (hushProto().CA as unknown as CACtor)(opts.managerAddr, grpc.credentials.createSsl(Buffer.from(caPem)), CHANNEL_OPTIONS);
  let res: JoinManagerResponse__Output;
  try {
    res = await call<JoinManagerResponse__Output>((cb) => client.JoinManager(
      { token: opts.token, listenAddr: opts.listenAddr, hostname: osHostname() }, new grpc.Metadata(), deadline(), cb));
  } finally {
    client.close();
  }
  try {
    writeEtcdSettings(opts.stateDir, {
      endpoints: res.etcdEndpoints, prefix: res.etcdPrefix,
      tls: res.etcdCaPem.length ? {
        ca: res.etcdCaPem, cert: res.etcdCertPem.length ? res.etcdCertPem : undefined, key: res.etcdKeyPem.length ? res.etcdKeyPem : undefined,
      } : undefined,
    });
    writeManagerId(opts.stateDir, res.managerId);
    adoptKeyring(opts.stateDir, res.autolock ? { autolock: true, wrappedDek: res.wrappedDataKey } : { autolock: false, dek: res.dataKey });
  } catch (e) {
    removeKeyring(opts.stateDir);
    for (const f of ['store.json', 'manager.json', ...Object.values(ETCD_TLS_FILES)]) rmSync(join(opts.stateDir, f), { force: true });
    throw e;
  } finally {
    res.dataKey.fill(0);
    res.etcdKeyPem.fill(0);
  }
  return { managerId: res.managerId, clusterId: res.clusterId, autolock: res.autolock };
}
