// `hush manager init`: creates a cluster in a state directory.
import { mkdirSync, chmodSync } from 'node:fs';
import { newId } from '../../common/ids.js';
import { CertificateAuthority, createRootCA } from '../ca/ca.js';
import { newJoinToken } from '../../common/join-token.js';
import { createKeyring, formatUnlockKey, keyringExists, removeKeyring } from '../crypto/keyring.js';
import { hostname } from 'node:os';
import { openStore } from '../store/open.js';
import { etcdStoreConfig, storeConfigFor, writeEtcdSettings, type EtcdSettings } from '../store/state-config.js';
import { encode, keys, type ClusterRecord, type ManagerRecord } from '../state/records.js';
import { VERSION } from '../../common/version.js';
import { issueManagerIdentity, sealCAKey, sealJoinToken } from './cluster.js';
import { writeManagerId } from './manager-id.js';

export { STORE_FILE } from '../store/open.js';

export interface InitOptions {
  stateDir: string;
  listenAddr: string;
  autolock: boolean;
  certExpiryMs: number;
  /** Create the cluster in etcd instead of the embedded SQLite store. */
  etcd?: EtcdSettings;
}

export interface InitResult {
  clusterId: string;
  managerId: string;
  workerToken: string;
  managerToken: string;
  unlockKey?: string;
}

export async function initCluster(opts: InitOptions): Promise<InitResult> {
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  chmodSync(opts.stateDir, 0o700);
  if (keyringExists(opts.stateDir)) {
    throw new Error(`a cluster is already initialised in ${opts.stateDir}`);
  }
  const clusterId = newId();
  const root = createRootCA(clusterId);
  const ca = new CertificateAuthority(root);
  const workerToken = newJoinToken(ca.certDer);
  const managerToken = newJoinToken(ca.certDer);

  const store = await openStore(opts.etcd ? etcdStoreConfig(opts.etcd) : storeConfigFor(opts.stateDir));
  const where = opts.etcd ? `etcd under ${opts.etcd.prefix}` : `the store in ${opts.stateDir}`;
  try {
    const { dek, unlockKey } = createKeyring(opts.stateDir, opts.autolock);
    try {
      const cluster: ClusterRecord = {
        id: clusterId, createdAtMs: Date.now(), certExpiryMs: opts.certExpiryMs, listenAddr: opts.listenAddr,
        sealedJoinTokens: { worker: sealJoinToken(dek, 'worker', workerToken), manager: sealJoinToken(dek, 'manager', managerToken) },
      };
      const managerId = newId();
      const { record: identity } = issueManagerIdentity(ca, dek, cluster, managerId);
      const now = Date.now();
      const manager: ManagerRecord = { id: managerId, addr: opts.listenAddr, hostname: hostname(), version: VERSION, joinedAtMs: now, heartbeatAtMs: now };
      const result = await store.txn([{ key: keys.cluster, modRev: 0 }], [
        { type: 'put', key: keys.cluster, value: encode(cluster) },
        { type: 'put', key: keys.ca, value: encode({ certPem: root.certPem, sealedKey: sealCAKey(dek, root.keyPem) }) },
        { type: 'put', key: keys.managerIdentityOf(managerId), value: encode(identity) },
        { type: 'put', key: keys.manager(managerId), value: encode(manager) },
      ]);
      if (!result.ok) throw new Error(`${where} already holds a cluster`);
      writeManagerId(opts.stateDir, managerId);
      if (opts.etcd) writeEtcdSettings(opts.stateDir, opts.etcd);
      return { clusterId, managerId, workerToken, managerToken, unlockKey: unlockKey && formatUnlockKey(unlockKey) };
    } catch (e) {
      removeKeyring(opts.stateDir); // a failed init leaves the directory re-initialisable
      throw e;
    } finally {
      dek.fill(0); // sealed into the keyring; `manager run` opens it again
      unlockKey?.fill(0); // formatted for the operator once, never stored
    }
  } finally {
    await store.close();
  }
}
