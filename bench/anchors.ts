// Bench "anchors": how long the agent takes to (re)create the per-task propagation anchors
// (fs/anchors.ts) for every task of a node — what containers bound to the anchors wait for after an
// agent restart — at two sizes, to show the cost per anchor stays flat as the node grows.
//
// In this process: a real native-engine FUSE mount of a NodeSecrets holding N tasks (one secret
// each) in a temporary directory, and TaskAnchors binding each task's directory read-only under a
// temporary anchor directory (real bind mounts, as root). Timed: follow() from nothing to N
// anchors; then one task removed until its anchor is detached; then stop() (every anchor detached).
// No baseline system: Swarm has no such mechanism.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeSecrets } from '../agent/secrets/node-secrets.js';
import { mountSecretsNative } from '../fs/engines/native.js';
import { TaskAnchors } from '../fs/anchors.js';
import { detachUnmountIfMounted } from '../common/native.js';
import { payload, ref, task } from '../fs/test/fixtures.js';
import { fmtMs, onCleanup, table, type BenchModule, type BenchOptions, type BenchResult, type Figure } from './harness.js';

interface Run {
  n: number;
  bindMs: number;
  removeMs: number;
  stopMs: number;
}

async function anchorRun(n: number): Promise<Run> {
  const base = mkdtempSync(join(tmpdir(), 'hush-bench-anchors-'));
  const secrets = new NodeSecrets();
  const mount = await mountSecretsNative(join(base, 'mnt'), secrets);
  const anchors = new TaskAnchors(join(base, 'anchors'), mount.mountPoint, secrets);
  const stop = onCleanup(`anchors bench in ${base}`, async () => {
    await anchors.stop();
    await mount.unmount();
    // The anchor directory stays a (shared) bind mount of itself after stop(), for consumers: detach it.
    while (detachUnmountIfMounted(anchors.dir));
    rmSync(base, { recursive: true, force: true });
  });
  try {
    await anchors.start();
    const tasks = Array.from({ length: n }, (_, i) => task(`t${i}`, `svc${i}.1`, `svc${i}`, [ref(`s${i}`, 1, 'pw')]));
    secrets.replaceAll(tasks, tasks.map((_, i) => payload(`s${i}`, 1, `bench-anchor-${i}`)));
    const t0 = performance.now();
    await anchors.follow();
    const bindMs = performance.now() - t0;
    if (anchors.anchors().size !== n) throw new Error(`${anchors.anchors().size} of ${n} anchors bound`);
    const t1 = performance.now();
    secrets.apply([], ['t0'], []);
    await anchors.sync();
    const removeMs = performance.now() - t1;
    if (anchors.anchors().has('svc0.1')) throw new Error('the removed task is still anchored');
    const t2 = performance.now();
    await anchors.stop();
    return { n, bindMs, removeMs, stopMs: performance.now() - t2 };
  } finally {
    await stop();
  }
}

export const anchorsBench: BenchModule = {
  name: 'anchors',
  description: 'per-task anchors for N tasks bound from nothing (an agent restart), one removed, all detached; at N/4 and N',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const n = opts.quick ? 500 : 2000;
    const runs: Run[] = [];
    for (const size of [n / 4, n]) {
      runs.push(await anchorRun(size));
      const r = runs[runs.length - 1];
      opts.log(`${size} anchors bound in ${fmtMs(r.bindMs)} ms`);
    }
    const [small, large] = runs;
    const perSmall = (small.bindMs / small.n) * 1000;
    const perLarge = (large.bindMs / large.n) * 1000;
    const report = table([
      ['anchors', 'bind all ms', 'µs per anchor', 'one removed ms', 'detach all ms'],
      ...runs.map((r) => [String(r.n), fmtMs(r.bindMs), (r.bindMs / r.n * 1000).toFixed(0), fmtMs(r.removeMs), fmtMs(r.stopMs)]),
    ]);
    report.push(`cost per anchor at ${large.n} / at ${small.n}: ${(perLarge / perSmall).toFixed(2)}x (1x: linear in the node's tasks)`);
    const figures: Figure[] = [
      { label: `bind ${large.n} anchors`, value: large.bindMs, unit: ' ms', better: 'lower' },
      { label: `µs per anchor at ${large.n} / at ${small.n}`, value: perLarge / perSmall, unit: 'x', better: 'lower' },
      { label: 'one task removed → anchor detached', value: large.removeMs, unit: ' ms', better: 'lower' },
    ];
    return { report, figures };
  },
};
