// Shared pieces of the benchmarks: the module contract that bench/run.ts drives, timing and
// statistics, table formatting, and a cleanup registry that also runs on SIGINT/SIGTERM, so a
// bench that is interrupted or fails still stops the processes and removes the directories it made.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { mountPointsUnder, readMountInfoSync } from '../fs/mountinfo.js';

export interface BenchOptions {
  /** Fewer iterations, for a smoke run. */
  quick: boolean;
  /** Measure the baseline system (e.g. Docker Swarm) too; --no-baseline turns it off. */
  baseline: boolean;
  /** Write a V8 CPU profile of each process under test into this directory (e.g. --cpu-prof on the manager). */
  cpuProfDir?: string;
  /** Progress lines (to stderr, so that stdout is the report). */
  log: (line: string) => void;
}

/** One headline number of a bench, as printed in the final summary. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
  /** Same measurement on the baseline system, when there is one. */
  baseline?: number;
  /** Higher is better (rates) or lower is better (latencies, memory); decides how the ratio reads. */
  better: 'higher' | 'lower';
}

export interface BenchResult {
  /** Lines printed as this bench's section of the report (tables, skipped baselines...). */
  report: string[];
  figures: Figure[];
  /** Name of the baseline system, e.g. "swarm", when figures carry baselines. */
  baselineName?: string;
  /** Why the baseline was not measured, if it was meant to be. */
  baselineSkipped?: string;
}

export interface BenchModule {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<BenchResult>;
}

// ---------------------------------------------------------------------------------------------
// Timing and statistics

export interface RunStats {
  n: number;
  seconds: number;
  /** Completed operations per second over the whole run. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Every call's latency in ms, sorted. */
  latenciesMs: Float64Array;
}

function stats(latenciesMs: Float64Array, seconds: number): RunStats {
  latenciesMs.sort();
  const n = latenciesMs.length;
  return {
    n, seconds, rate: n / seconds, latenciesMs,
    p50Ms: percentile(latenciesMs, 50), p99Ms: percentile(latenciesMs, 99), maxMs: latenciesMs[n - 1],
  };
}

/** Several runs of the same thing as one: total calls over total time, percentiles over all calls. */
export function combine(runs: RunStats[]): RunStats {
  const all = new Float64Array(runs.reduce((a, r) => a + r.n, 0));
  let off = 0;
  for (const r of runs) {
    all.set(r.latenciesMs, off);
    off += r.n;
  }
  return stats(all, runs.reduce((a, r) => a + r.seconds, 0));
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Runs op(0..n-1) with `concurrency` calls outstanding at any time (1 = strictly sequential) and
 * measures each call's latency from issue to completion. op gets the call's index and the index of
 * the worker (0..concurrency-1) issuing it. Any failed call fails the run.
 */
export async function measure(n: number, concurrency: number,
  op: (i: number, worker: number) => Promise<unknown>): Promise<RunStats> {
  const lat = new Float64Array(n);
  let next = 0;
  const worker = async (w: number) => {
    for (;;) {
      checkInterrupted();
      const i = next++;
      if (i >= n) return;
      const t0 = performance.now();
      await op(i, w);
      lat[i] = performance.now() - t0;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, (_, w) => worker(w)));
  return stats(lat, (performance.now() - start) / 1000);
}

/**
 * The order in which to run systems in each of `rounds` rounds: ABBA... (A B, B A, A B, ...), so
 * that a drift in the machine's load over the run weighs on all systems alike.
 */
export function abbaOrder<T>(systems: T[], round: number): T[] {
  return round % 2 === 0 ? [...systems] : [...systems].reverse();
}

/** The machine's CPU pressure (PSI "some" avg10/avg60), a noise indicator; undefined where absent. */
export function cpuPressure(): string | undefined {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8').split('\n').find((l) => l.startsWith('some'));
    const m = some && /avg10=([\d.]+) avg60=([\d.]+)/.exec(some);
    return m ? `cpu pressure avg10 ${m[1]}% avg60 ${m[2]}%` : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function fmtRate(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A plain-text table: first row is the header; columns after the first are right-aligned. */
export function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}

/** "hush/baseline" as a factor, oriented so that > 1 means hush is better. */
export function ratio(f: Pick<Figure, 'value' | 'baseline' | 'better'>): string {
  if (f.baseline === undefined || !(f.baseline > 0) || !(f.value > 0)) return '-';
  const r = f.better === 'higher' ? f.value / f.baseline : f.baseline / f.value;
  return `${r.toFixed(2)}x`;
}

// ---------------------------------------------------------------------------------------------
// Cleanup

type Cleanup = () => void | Promise<void>;
// Each cleanup runs once; whoever asks for it again (the bench's finally, the signal handler, the
// final sweep) awaits that same run, so nobody exits while a daemon is still being stopped.
const cleanups = new Map<number, { what: string; run: () => Promise<void> }>();
let nextCleanupId = 0;
let signalsHooked = false;
let interruptedBy: string | undefined;

export class Interrupted extends Error {}

/** Throws once the bench process has been asked to stop (SIGINT/SIGTERM/SIGHUP): call between steps. */
export function checkInterrupted(): void {
  if (interruptedBy) throw new Interrupted(`interrupted by ${interruptedBy}`);
}

/**
 * Registers a cleanup and returns the function that runs it. It also runs from runAllCleanups()
 * (after each bench, on interruption, at exit) if it has not run by then. It runs at most once.
 */
export function onCleanup(what: string, fn: Cleanup): () => Promise<void> {
  hookSignals();
  const id = nextCleanupId++;
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      try {
        await fn();
      } finally {
        cleanups.delete(id);
      }
    })();
    return running;
  };
  cleanups.set(id, { what, run });
  return run;
}

/** Runs (or waits for) every registered cleanup, latest first; a failing one does not stop the others. */
export async function runAllCleanups(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  for (const c of [...cleanups.values()].reverse()) {
    try {
      await c.run();
    } catch (e) {
      log(`cleanup of ${c.what} failed: ${(e as Error).message}`);
    }
  }
}

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (interruptedBy) {
        process.stderr.write(`\n${sig} again: exiting without finishing the cleanup\n`);
        process.exit(130);
      }
      interruptedBy = sig;
      process.stderr.write(`\n${sig}: stopping and cleaning up (send it again to exit at once)\n`);
      runAllCleanups().finally(() => process.exit(130));
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Mount points at or under dir, deepest first (for a cleanup that must unmount before removing dir). */
export function mountsUnder(dir: string): string[] {
  return mountPointsUnder(readMountInfoSync(), dir);
}
