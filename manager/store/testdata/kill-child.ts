// Durability test helper (run by sqlite.test.ts, compiled to dist/): commits txns in a loop from
// several concurrent writers and prints each key to stdout once its txn() has resolved, until killed.
import { openSqliteStore } from '../sqlite.js';

const store = openSqliteStore(process.argv[2]);
const blob = Buffer.alloc(1000, 7);
let n = 0;

async function writer(w: number): Promise<never> {
  for (;;) {
    const key = `k/${w}/${n++}`;
    const r = await store.txn([{ key, modRev: 0 }], [
      { type: 'put', key, value: Buffer.from(key) },
      { type: 'putBlob', id: key, data: blob },
    ]);
    if (!r.ok) throw new Error(`unexpected compare failure on ${key}`);
    process.stdout.write(key + '\n'); // synchronous for pipes on Linux
  }
}

for (let w = 0; w < 4; w++) {
  writer(w).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
