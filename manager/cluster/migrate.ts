// `hush manager migrate`: moves a stopped manager's embedded cluster (SQLite, manager.db) into etcd.
// Every key is copied as it is (ids, secret versions, node records, the CA and the manager's
// identity), every secret payload blob with it; /cluster goes last, so a copy that stops half way
// leaves no cluster in etcd. Everything is read back and compared before the state directory is
// switched (store.json and the etcd TLS files); manager.db is opened read-only and never changes,
// so removing store.json goes back to it.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CONTROL_SOCKET } from '../../common/defaults.js';
import { VERSION } from '../../common/version.js';
import { keyringExists } from '../crypto/keyring.js';
import { openStore, STORE_FILE } from '../store/open.js';
import type { Store } from '../store/store.js';
import { ETCD_TLS_FILES, etcdSettingsOf, etcdStoreConfig, writeEtcdSettings, type EtcdSettings } from '../store/state-config.js';
import { decode, encode, keys, type ClusterRecord, type ManagerIdentityRecord, type ManagerRecord, type SecretRecord } from '../state/records.js';
import { readManagerId, writeManagerId } from './manager-id.js';
import { copyItems, verifyCopy, type Item } from './migrate-copy.js';

export interface MigrateOptions {
  stateDir: string;
  etcd: EtcdSettings;
}

export interface MigrateResult {
  clusterId: string;
  managerId: string;
  /** Keys written to etcd (the ones added for an older state directory included). */
  keys: number;
  blobs: number;
  /** Bytes of key values and blobs written. */
  bytes: number;
  /** The files written to the state directory, which going back to SQLite removes. */
  written: string[];
}

/** Whether something answers on the state directory's control socket (a running manager). */
function controlSocketAnswers(stateDir: string): Promise<boolean> {
  const path = join(stateDir, CONTROL_SOCKET);
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (answers: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(answers);
    };
    const timer = setTimeout(() => done(true), 2000); // something holds it without answering: not stopped
    s.once('connect', () => done(true));
    s.once('error', () => done(false)); // a socket file left by a killed manager
  });
}

/** How to empty the prefix of a half-done copy (its exact ranges: a shorter prefix could match others). */
function clearHint(etcd: EtcdSettings): string {
  const p = etcd.prefix.replace(/\/+$/, '');
  const ctl = `etcdctl --endpoints=${etcd.endpoints.join(',')}${etcd.tls ? ' (with your TLS flags)' : ''}`;
  return `${ctl} del --prefix ${p}/w/ && ${ctl} del --prefix ${p}/b/`;
}

export async function migrateToEtcd(opts: MigrateOptions): Promise<MigrateResult> {
  const { stateDir, etcd } = opts;
  const dbPath = join(stateDir, STORE_FILE);
  const place = etcdSettingsOf(stateDir);
  if (place) throw new Error(`${stateDir} is already on etcd (${place.endpoints.join(',')}, prefix ${place.prefix}): nothing to migrate`);
  if (!keyringExists(stateDir) || !existsSync(dbPath)) throw new Error(`no cluster in ${stateDir}: nothing to migrate`);
  if (await controlSocketAnswers(stateDir)) {
    throw new Error(`the manager of ${stateDir} is running (its control socket answers): stop it, then migrate`);
  }
  let source: Store;
  try {
    // Held open (read-only) until the end: a manager started meanwhile finds its store locked.
    source = await openStore({ backend: 'sqlite', path: dbPath, readOnly: true });
  } catch (e) {
    if (/is locked/.test((e as Error).message)) throw new Error(`the manager of ${stateDir} is running (${dbPath} is locked by another process): stop it, then migrate`);
    throw e;
  }
  try {
    const { kvs } = await source.range('');
    const values = new Map(kvs.map((kv) => [kv.key, kv.value]));
    const clusterValue = values.get(keys.cluster);
    if (!clusterValue) throw new Error(`no cluster in ${stateDir}: its store is empty`);
    const cluster = decode<ClusterRecord>(clusterValue);
    const readBlob = async (id: string) => {
      const data = await source.getBlob(id);
      if (!data) throw new Error(`${dbPath} lacks blob ${id}`);
      return data;
    };

    // This manager's identity, by id, so that managers joined later on etcd find theirs beside it.
    const ownId = readManagerId(stateDir);
    const added = new Map<string, Buffer>();
    let managerId: string;
    if (ownId) {
      if (!values.has(keys.managerIdentityOf(ownId))) throw new Error(`${dbPath} holds no identity for manager ${ownId} (manager.json)`);
      managerId = ownId;
    } else {
      const legacy = values.get(keys.managerIdentity);
      if (!legacy) throw new Error(`${dbPath} holds no manager identity`);
      managerId = decode<ManagerIdentityRecord>(legacy).id;
      if (!values.has(keys.managerIdentityOf(managerId))) added.set(keys.managerIdentityOf(managerId), legacy);
    }
    if (!values.has(keys.manager(managerId))) {
      // heartbeatAtMs 0: not reachable until it runs (presence.ts).
      const record: ManagerRecord = {
        id: managerId, addr: cluster.listenAddr, hostname: hostname(), version: VERSION, joinedAtMs: cluster.createdAtMs, heartbeatAtMs: 0,
      };
      added.set(keys.manager(managerId), encode(record));
    }

    // Every payload of every secret version must be there: a missing one is a damaged store.
    const blobIds: string[] = [];
    let bytes = 0;
    for (const kv of kvs) {
      if (!kv.key.startsWith(keys.secretsPrefix)) continue;
      const secret = decode<SecretRecord>(kv.value);
      for (const v of secret.versions) {
        const id = keys.secretBlob(secret.id, v.version);
        const data = await source.getBlob(id);
        if (!data) throw new Error(`${dbPath} lacks the payload of secret ${secret.id} version ${v.version} (blob ${id}): not migrating a damaged store`);
        blobIds.push(id);
        bytes += data.length;
      }
    }

    const target = await openStore(etcdStoreConfig(etcd));
    try {
      const existing = await target.get(keys.cluster);
      if (existing) {
        throw new Error(`etcd prefix ${etcd.prefix} already holds a cluster (${decode<ClusterRecord>(existing.value).id}): choose another --etcd-prefix`);
      }
      if ((await target.revision()) > 0) {
        throw new Error(`etcd prefix ${etcd.prefix} holds data but no cluster (a half-done migrate?): clear it with \`${clearHint(etcd)}\` and migrate again`);
      }
      const expected = new Map([...values, ...added]);
      expected.delete(keys.cluster);
      const items: Item[] = [
        ...blobIds.map((id): Item => ({ kind: 'blob', id })),
        ...[...expected].map(([key, value]): Item => ({ kind: 'key', key, value })),
      ];
      const done = { ops: 0 };
      let taken = false;
      try {
        await copyItems(target, items, readBlob, done);
        await verifyCopy(target, expected, blobIds, readBlob);
        // Last, and only if absent: from here on the prefix holds a cluster.
        const r = await target.txn([{ key: keys.cluster, modRev: 0 }], [{ type: 'put', key: keys.cluster, value: clusterValue }]);
        taken = !r.ok;
        if (taken) throw new Error(`etcd prefix ${etcd.prefix} got a cluster from elsewhere during the migration; ${stateDir} is unchanged (still on SQLite)`);
        done.ops++;
        if (!(await target.get(keys.cluster))?.value.equals(clusterValue)) throw new Error('verification failed: key /cluster differs in etcd');
      } catch (e) {
        if (taken) throw e; // not ours to clear
        throw new Error(`migration to etcd failed after ${done.ops} of ${items.length + 1} writes: ${(e as Error).message}; ${stateDir} is unchanged (still on SQLite). Clear the prefix with \`${clearHint(etcd)}\` and migrate again`);
      }
      // The state directory switches only now; store.json first (without manager.json, a manager
      // on etcd still finds the legacy /manager-identity, copied as it was).
      writeEtcdSettings(stateDir, etcd);
      const written = ['store.json', ...(etcd.tls ? Object.entries(ETCD_TLS_FILES).filter(([k]) => etcd.tls![k as keyof typeof ETCD_TLS_FILES]).map(([, f]) => f) : [])];
      if (!ownId) {
        writeManagerId(stateDir, managerId);
        written.push('manager.json');
      }
      for (const v of expected.values()) bytes += v.length;
      bytes += clusterValue.length;
      return { clusterId: cluster.id, managerId, keys: expected.size + 1, blobs: blobIds.length, bytes, written };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
