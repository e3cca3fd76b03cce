// Bench "cli": how long a `hush` command takes from exec to exit, against node's own start
// (`node -e 0`) in the same run (issue 9: scripts run the CLI in loops). Each round runs the three
// once, in ABBA order (harness.ts abbaOrder), so that drifts in the machine's load weigh on all
// alike; the figures are medians over the rounds. `hush secret ls` asks a real manager (a temporary
// state directory, manager-proc.ts) holding a few secrets. Targets: --version ≤ 1.3x node's start,
// secret ls ≤ 2x. HUSH_BENCH_CLI_BEFORE=/path/to/another/build/dist/cli/main.js times that build's
// two commands in the same rounds too (e.g. the tree before a change), against the same manager.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../common/version.js';
import { abbaOrder, checkInterrupted, fmtMs, percentile, table, type BenchModule, type BenchOptions, type BenchResult } from './harness.js';
import { startManager } from './manager-proc.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const SECRETS = 5;
const TARGETS: Record<string, number> = { version: 1.3, ls: 2 };

interface Run {
  key: string;
  label: string;
  args: string[];
  /** What a correct run prints on stdout. */
  check(stdout: string): boolean;
}

/** Runs `node ARGS` to its exit; the wall time in ms. Fails on a non-zero exit or a wrong output. */
function timeRun(run: Run, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [...nodeArgs, ...run.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    p.once('error', reject);
    p.once('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0 || !run.check(out)) reject(new Error(`${run.label} failed (exit ${code}): ${(err || out).slice(0, 500)}`));
      else resolve(ms);
    });
  });
}

export const cliStartBench: BenchModule = {
  name: 'cli',
  description: 'CLI start-up: `hush --version` and `hush secret ls` (a real manager) vs `node -e 0`, same run',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const manager = await startManager();
    try {
      const control = manager.control();
      for (let i = 0; i < SECRETS; i++) {
        await new Promise<void>((resolve, reject) => control.CreateSecret({ name: `bench-cli-${i}`, data: Buffer.from(`value ${i}`), labels: {} },
          (e) => (e ? reject(e) : resolve())));
      }
      const env = { ...process.env, HUSH_HOST: manager.socketPath };
      const runs: Run[] = [
        { key: 'node', label: 'node -e 0', args: ['-e', '0'], check: () => true },
        { key: 'version', label: 'hush --version', args: [CLI, '--version'], check: (o) => o === `${VERSION}\n` },
        { key: 'ls', label: 'hush secret ls', args: [CLI, 'secret', 'ls'], check: (o) => o.split('\n').filter(Boolean).length === SECRETS + 1 },
      ];
      const before = process.env.HUSH_BENCH_CLI_BEFORE;
      if (before) {
        runs.push(
          { key: 'before-version', label: 'before: --version', args: [before, '--version'], check: runs[1].check },
          { key: 'before-ls', label: 'before: secret ls', args: [before, 'secret', 'ls'], check: runs[2].check },
        );
      }
      for (const r of runs) await timeRun(r, env); // warm the page cache: the first exec of each reads the files
      const rounds = opts.quick ? 12 : 40;
      const times = new Map(runs.map((r) => [r.key, [] as number[]]));
      for (let i = 0; i < rounds; i++) {
        checkInterrupted();
        for (const r of abbaOrder(runs, i)) times.get(r.key)!.push(await timeRun(r, env));
      }
      if (opts.cpuProfDir) {
        for (const r of runs.slice(1, 3)) await timeRun(r, env, ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir, '--cpu-prof-name', `cli-${r.key}.cpuprofile`]);
      }
      const median = (key: string) => percentile([...times.get(key)!].sort((a, b) => a - b), 50);
      const base = median('node');
      opts.log(`${rounds} rounds: node ${fmtMs(base)} ms, --version ${fmtMs(median('version'))} ms, secret ls ${fmtMs(median('ls'))} ms`);
      const rows = [['command', 'min ms', 'median ms', 'p90 ms', 'x node -e 0 (median)', 'target']];
      for (const r of runs) {
        const sorted = [...times.get(r.key)!].sort((a, b) => a - b);
        const target = TARGETS[r.key];
        rows.push([r.label, fmtMs(sorted[0]), fmtMs(median(r.key)), fmtMs(percentile(sorted, 90)), `${(median(r.key) / base).toFixed(2)}x`,
          target === undefined ? '' : `<= ${target}x: ${median(r.key) / base <= target ? 'met' : 'NOT met'}`]);
      }
      const report = [`${rounds} rounds of the ${runs.length} in ABBA order; ${SECRETS} secrets in the manager${before ? `; before: ${before}` : ''}`, ...table(rows)];
      return {
        report,
        baselineName: 'node -e 0',
        figures: runs.slice(1, 3).map((r) => ({ label: `${r.label} exec to exit`, value: median(r.key), unit: ' ms', baseline: base, better: 'lower' as const })),
      };
    } finally {
      await manager.stop();
    }
  },
};
