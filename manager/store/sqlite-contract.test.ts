// The Store contract (contract.ts) run against the SQLite backend, each test on its own file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from './open.js';
import type { Store } from './store.js';
import { storeContract, type ContractStoreOptions, type OpenedStore } from './contract.js';

storeContract('sqlite', async (opts: ContractStoreOptions = {}): Promise<OpenedStore> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-store-'));
  const config = { backend: 'sqlite' as const, path: path.join(dir, 'store.db'), historyLimit: opts.historyLimit };
  const opened: Store[] = [];
  const open = async () => {
    const s = await openStore(config);
    opened.push(s);
    return s;
  };
  return {
    store: await open(),
    reopen: open,
    async cleanup() {
      try {
        for (const s of opened) await s.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
});
