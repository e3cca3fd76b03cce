// Opens the manager's store from its configuration: the one place that knows which backends
// exist. The manager and `hush manager init` both open their store through openStore().
import type { Store } from './store.js';
import { openSqliteStore } from './sqlite.js';
import { openEtcdStore } from './etcd.js';

/** The SQLite file in a manager's state directory. */
export const STORE_FILE = 'manager.db';

/** The embedded SQLite store: one file, opened by one process at a time. */
export interface SqliteStoreConfig {
  backend: 'sqlite';
  /** The database file (created with mode 0600 if absent). */
  path: string;
  /** How many revisions of change history watch() can replay; default 10,000. */
  historyLimit?: number;
  /** Open an existing file without writing to it (sqlite.ts); txn() rejects. */
  readOnly?: boolean;
}

/** A store in an etcd cluster (etcd.ts), shared by every manager configured with the same prefix. */
export interface EtcdStoreConfig {
  backend: 'etcd';
  /** host:port of each member. */
  endpoints: string[];
  /** Key prefix of the store (default /hush). */
  prefix?: string;
  /** TLS to etcd: the CA of the members' certificates (PEM), and a client certificate and key (PEM)
   *  for members run with --client-cert-auth. Without ca the connection is plain. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** If set, the store compacts etcd (cluster-wide) to keep about this many of its revisions. */
  historyLimit?: number;
  /** The members' --max-request-bytes (default 1.5 MiB). */
  maxRequestBytes?: number;
  /** Deadline of every etcd call, ms (default 2000). */
  deadlineMs?: number;
}

/** Every backend's configuration, told apart by `backend`. */
export type StoreConfig = SqliteStoreConfig | EtcdStoreConfig;

/** Opens the configured backend; rejects with a one-line error if it cannot be opened. */
export async function openStore(config: StoreConfig): Promise<Store> {
  switch (config.backend) {
    case 'sqlite':
      return openSqliteStore(config.path, { historyLimit: config.historyLimit, readOnly: config.readOnly });
    case 'etcd':
      return openEtcdStore({
        endpoints: config.endpoints, prefix: config.prefix, historyLimit: config.historyLimit,
        maxRequestBytes: config.maxRequestBytes, deadlineMs: config.deadlineMs,
        ca: config.tls?.ca, cert: config.tls?.cert, key: config.tls?.key,
      });
    default:
      throw new Error(`unknown store backend ${JSON.stringify((config as { backend?: unknown }).backend)}`);
  }
}
