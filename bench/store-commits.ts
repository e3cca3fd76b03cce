// Bench "store": durable commits per second of the manager's store (the SQLite backend, through
// openStore as the manager opens it) in a temporary directory: each txn a create-if-absent of a
// 200 B key plus a 4 KB blob, as a secret create writes, first one in flight at a time, then 16
// (group commit: one fsync for all txns queued together). No baseline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openStore } from '../manager/store/open.js';
import { fmtRate, onCleanup, table, type BenchModule, type BenchOptions, type BenchResult, type Figure } from './harness.js';

export const storeCommitsBench: BenchModule = {
  name: 'store',
  description: 'store commits/s (200 B put + 4 KB blob, durable), 1 and 16 txns in flight',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'hush-bench-store-'));
    const store = await openStore({ backend: 'sqlite', path: join(dir, 'store.db') });
    const stop = onCleanup(`store bench in ${dir}`, async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    try {
      const value = Buffer.alloc(200, 1);
      const blob = Buffer.alloc(4096, 2);
      let i = 0;
      const one = async () => {
        const n = i++;
        const r = await store.txn([{ key: `secrets/${n}`, modRev: 0 }], [
          { type: 'put', key: `secrets/${n}`, value },
          { type: 'putBlob', id: `v/${n}`, data: blob },
        ]);
        if (!r.ok) throw new Error(`txn ${n} failed its compare`);
      };
      const ms = opts.quick ? 300 : 1000;
      const rows: string[][] = [['in flight', 'commits', 'commits/s']];
      const figures: Figure[] = [];
      for (const concurrency of [1, 16]) {
        const start = i;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (performance.now() - t0 < ms) await one();
        }));
        const rate = ((i - start) / (performance.now() - t0)) * 1000;
        opts.log(`${concurrency} in flight: ${Math.round(rate)} commits/s`);
        rows.push([String(concurrency), String(i - start), fmtRate(rate)]);
        figures.push({ label: `store commits/s, ${concurrency} in flight`, value: rate, unit: '/s', better: 'higher' });
      }
      return { report: table(rows), figures };
    } finally {
      await stop();
    }
  },
};
