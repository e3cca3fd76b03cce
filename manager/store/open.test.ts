import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, STORE_FILE, type StoreConfig } from './open.js';
import { storeConfigFor } from './state-config.js';

test('openStore opens the configured backend: a manager state dir gets its SQLite file; an unknown backend is refused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-open-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(storeConfigFor(dir), { backend: 'sqlite', path: path.join(dir, STORE_FILE) });
  const store = await openStore(storeConfigFor(dir));
  await store.txn([], [{ type: 'put', key: 'k', value: Buffer.from('v') }]);
  await store.close();
  assert.ok(fs.existsSync(path.join(dir, 'manager.db')));
  const again = await openStore({ backend: 'sqlite', path: path.join(dir, STORE_FILE), historyLimit: 5 });
  assert.equal((await again.get('k'))?.value.toString(), 'v');
  await again.close();
  await assert.rejects(openStore({ backend: 'consul' } as unknown as StoreConfig), /^Error: unknown store backend "consul"$/);
});
