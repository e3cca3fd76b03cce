// Opens the manager's store from its configuration: the one place that knows which backends
// exist. The manager and `hush manager init` both open their store through openStore().
import { join } from 'node:path';
import type { Store } from './store.js';
import { openSqliteStore } from './sqlite.js';

/** The SQLite file in a manager's state directory. */
export const STORE_FILE = 'manager.db';

/** The embedded SQLite store: one file, opened by one process at a time. */
export interface SqliteStoreConfig {
  backend: 'sqlite';
  /** The database file (created with mode 0600 if absent). */
  path: string;
  /** How many revisions of change history watch() can replay; default 10,000. */
  historyLimit?: number;
}

/** Every backend's configuration, told apart by `backend` (etcd is to be added here). */
export type StoreConfig = SqliteStoreConfig;

/** The store of the manager whose state directory this is. */
export function storeConfigFor(stateDir: string): StoreConfig {
  return { backend: 'sqlite', path: join(stateDir, STORE_FILE) };
}

/** Opens the configured backend; rejects with a one-line error if it cannot be opened. */
export async function openStore(config: StoreConfig): Promise<Store> {
  switch (config.backend) {
    case 'sqlite':
      return openSqliteStore(config.path, { historyLimit: config.historyLimit });
    default:
      throw new Error(`unknown store backend ${JSON.stringify((config as { backend?: unknown }).backend)}`);
  }
}
