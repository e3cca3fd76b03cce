// Which store a manager's state directory uses, kept in the directory itself (store.json).
// Absent: the embedded SQLite store in manager.db (every cluster made before etcd existed).
// With etcd, the endpoints and prefix are recorded, and the TLS files given at init or join are
// copied into the directory (0600), so that `manager run` and `manager join` need no flags.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurable } from '../../common/files.js';
import { STORE_FILE, type EtcdStoreConfig, type StoreConfig } from './open.js';

const CONFIG_FILE = 'store.json';
/** The etcd TLS files kept in the state directory. */
export const ETCD_TLS_FILES = { ca: 'etcd-ca.pem', cert: 'etcd-cert.pem', key: 'etcd-key.pem' } as const;

/** What store.json holds: the etcd store's place (TLS material is in the files beside it). */
export interface EtcdPlace {
  backend: 'etcd';
  endpoints: string[];
  prefix: string;
}

/** The etcd connection given to init or join: where, and the TLS material (PEM bytes). */
export interface EtcdSettings {
  endpoints: string[];
  prefix: string;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

export const DEFAULT_ETCD_PREFIX = '/hush';

/** The store of the manager whose state directory this is. */
export function storeConfigFor(stateDir: string): StoreConfig {
  const place = readPlace(stateDir);
  if (!place) return { backend: 'sqlite', path: join(stateDir, STORE_FILE) };
  return { backend: 'etcd', endpoints: place.endpoints, prefix: place.prefix, tls: readTls(stateDir) };
}

/** The etcd settings recorded in a state directory, or undefined for the embedded store. */
export function etcdSettingsOf(stateDir: string): EtcdSettings | undefined {
  const place = readPlace(stateDir);
  return place && { endpoints: place.endpoints, prefix: place.prefix, tls: readTls(stateDir) };
}

/** Records etcd as this state directory's store (before anything else is written there). */
export function writeEtcdSettings(stateDir: string, s: EtcdSettings): void {
  if (s.tls) {
    writeFileDurable(join(stateDir, ETCD_TLS_FILES.ca), s.tls.ca, 0o600);
    if (s.tls.cert) writeFileDurable(join(stateDir, ETCD_TLS_FILES.cert), s.tls.cert, 0o600);
    if (s.tls.key) writeFileDurable(join(stateDir, ETCD_TLS_FILES.key), s.tls.key, 0o600);
  }
  const place: EtcdPlace = { backend: 'etcd', endpoints: s.endpoints, prefix: s.prefix };
  writeFileDurable(join(stateDir, CONFIG_FILE), JSON.stringify(place) + '\n', 0o600);
}

/** The store config of etcd settings given on a command line (not yet recorded anywhere). */
export function etcdStoreConfig(s: EtcdSettings): EtcdStoreConfig {
  return { backend: 'etcd', endpoints: s.endpoints, prefix: s.prefix, tls: s.tls };
}

function readPlace(stateDir: string): EtcdPlace | undefined {
  const path = join(stateDir, CONFIG_FILE);
  if (!existsSync(path)) return undefined;
  let place: EtcdPlace;
  try {
    place = JSON.parse(readFileSync(path, 'utf8')) as EtcdPlace;
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (place.backend !== 'etcd' || !Array.isArray(place.endpoints) || !place.endpoints.length || typeof place.prefix !== 'string') {
    throw new Error(`${path} is not a store configuration this version understands`);
  }
  return place;
}

function readTls(stateDir: string): EtcdSettings['tls'] {
  const file = (name: string) => {
    const path = join(stateDir, name);
    return existsSync(path) ? readFileSync(path) : undefined;
  };
  const ca = file(ETCD_TLS_FILES.ca);
  return ca && { ca, cert: file(ETCD_TLS_FILES.cert), key: file(ETCD_TLS_FILES.key) };
}
