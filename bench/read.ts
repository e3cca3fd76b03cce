// Bench "read" (P3): the cost of open + read + close of a 64-byte secret on a node, in µs, from a
// separate measuring process (bench/fuse-c/readloop.c: N iterations of open, one read() of up to
// 4096 bytes, close, timed with CLOCK_MONOTONIC), on three file systems in the same run:
//
//   hush   a real agent process (bench/agent-proc.ts) joined to a real manager, serving the file
//          at MOUNT/read.1/pw through fuse-native (its mount options: ro, direct_io, zero
//          entry/attr/negative timeouts, default_permissions, allow_other, auto_unmount)
//          — "hush (fuse-native)" — and, in the same run, a second manager + agent with
//          HUSH_FS_ENGINE=native (fs/engines/native.ts: same options, requests answered on libfuse's
//          threads) — "hush (native)" — and a third with HUSH_FS_ENGINE=native-ll (the same addon on
//          libfuse2's low-level API) — "hush (native-ll)". HUSH_BENCH_READ_ENGINES=a,b runs only those.
//   C      the smallest libfuse2 high-level file system (bench/fuse-c/hello.c) serving the same
//          layout (/task.1/secret, dir 0500, file 0400, 64 bytes) with the same options,
//          multi-threaded like fuse-native's fuse_loop_mt — the floor for any libfuse2 daemon
//   tmpfs  a private tmpfs with the same layout — the floor without FUSE
//
// Both C programs are built at bench time with gcc and `pkg-config fuse` (libfuse-dev is installed
// with apt-get when missing). Rounds alternate C, hush, tmpfs, C, hush, tmpfs, ... so that the
// machine's noise hits all three alike; the figure is each system's median over the rounds of its
// mean µs per open+read+close. The C file system counts the requests it answers, which gives the
// FUSE requests one open+read+close costs under these options (the same kernel sends hush the same).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startAgent, type RunningAgent } from './agent-proc.js';
import { unary } from '../integration/helpers/grpc.js';
import {
  checkInterrupted, mountsUnder, onCleanup, sleep, table,
  type BenchModule, type BenchOptions, type BenchResult, type Figure,
} from './harness.js';
import { startManager, type RunningManager } from './manager-proc.js';

const ENGINES = ['fuse-native', 'native', 'native-ll'] as const;
type Engine = (typeof ENGINES)[number];
const ENGINE_ADDON = 'hush_fs_engine.node';

/** The hush engines to measure: HUSH_BENCH_READ_ENGINES (comma-separated), default all. */
function engines(): Engine[] {
  const raw = (process.env.HUSH_BENCH_READ_ENGINES ?? ENGINES.join(',')).split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of raw) if (!(ENGINES as readonly string[]).includes(e)) throw new Error(`HUSH_BENCH_READ_ENGINES: unknown engine ${e}`);
  return [...new Set(raw)] as Engine[];
}

const TARGET_RATIO = 1.5;
const SIZE = 64;
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'fuse-c');
/** The options of hush's mount (fs/engines/engine.ts MOUNT_OPTIONS) that shape the kernel's requests. */
const C_OPTIONS = 'ro,direct_io,entry_timeout=0,attr_timeout=0,negative_timeout=0,default_permissions,allow_other,auto_unmount,fsname=hush-bench-c';

interface LoopResult {
  iters: number;
  total_ns: number;
  mean_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

type Counters = Record<string, number>;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const us = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** Installs the C toolchain pieces the bench needs (Debian), if missing. */
function ensureToolchain(log: (line: string) => void): void {
  const missing: string[] = [];
  if (spawnSync('dpkg', ['-s', 'libfuse-dev'], { stdio: 'ignore' }).status !== 0) missing.push('libfuse-dev');
  if (spawnSync('pkg-config', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('pkg-config');
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('gcc', 'libc6-dev');
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} (apt-get)`);
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (r.status !== 0) throw new Error(`cannot install ${missing.join(' ')}: ${r.stderr?.toString().trim().split('\n').pop()}`);
}

function build(dir: string): { hello: string; readloop: string } {
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'fuse'], { encoding: 'utf8' }).trim().split(/\s+/);
  const hello = join(dir, 'hello');
  const readloop = join(dir, 'readloop');
  execFileSync('gcc', ['-O2', '-Wall', '-o', hello, join(SRC, 'hello.c'), ...flags], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('gcc', ['-O2', '-Wall', '-o', readloop, join(SRC, 'readloop.c')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { hello, readloop };
}

/** Runs readloop on `path` (a child process: it never runs inside a FUSE server). */
function readLoop(readloop: string, path: string, iters: number): Promise<LoopResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(readloop, [path, String(iters), String(SIZE)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 300_000);
    p.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`readloop ${path} exited ${signal ?? code}: ${err.trim()}`));
      resolvePromise(JSON.parse(out) as LoopResult);
    });
  });
}

interface CFs {
  file: string;
  counters(): Promise<Counters>;
  stop(): Promise<void>;
}

/** Starts hello.c's file system on a fresh mount point; resolves once its file reads. */
async function startCFs(hello: string, base: string): Promise<CFs> {
  const mnt = join(base, 'c-mnt');
  mkdirSync(mnt);
  const proc: ChildProcess = spawn(hello, [mnt, '-f', '-o', C_OPTIONS], { stdio: ['ignore', 'ignore', 'pipe'] });
  const waiters: Array<(c: Counters) => void> = [];
  let buf = '';
  const tail: string[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const rec = JSON.parse(line) as { counters?: Counters };
        if (rec.counters) waiters.shift()?.(rec.counters);
      } catch {
        tail.push(line);
      }
    }
  });
  const stop = onCleanup(`C FUSE file system at ${mnt}`, async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    for (const m of mountsUnder(mnt)) spawnSync('umount', ['-l', m]);
  });
  const file = join(mnt, 'task.1', 'secret');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await readFile(file)).length === SIZE) break;
    } catch { /* not mounted yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the C FUSE file system did not come up: ${tail.join(' ')}`);
    }
    await sleep(20);
  }
  return {
    file,
    counters: () => new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error('no counters from the C file system')), 5000);
      waiters.push((c) => {
        clearTimeout(timer);
        resolvePromise(c);
      });
      proc.kill('SIGUSR1');
    }),
    stop,
  };
}

/** A private tmpfs with the same layout; its file's path. */
function startTmpfs(base: string): { file: string; stop: () => Promise<void> } {
  const mnt = join(base, 'tmpfs');
  mkdirSync(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'hush-bench-tmpfs', mnt], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr.toString().trim()}`);
  const stop = onCleanup(`tmpfs at ${mnt}`, () => {
    for (const m of mountsUnder(mnt)) spawnSync('umount', ['-l', m]);
  });
  mkdirSync(join(mnt, 'task.1'), { mode: 0o500 });
  const file = join(mnt, 'task.1', 'secret');
  writeFileSync(file, randomBytes(SIZE), { mode: 0o400 });
  chmodSync(join(mnt, 'task.1'), 0o500);
  return { file, stop };
}

async function run(opts: BenchOptions): Promise<BenchResult> {
  const { log, quick } = opts;
  const rounds = quick ? 3 : 5;
  const iters = quick ? 2000 : 20_000;
  const warm = quick ? 500 : 2000;

  ensureToolchain(log);
  const base = mkdtempSync('/tmp/hush-bench-read-');
  const removeBase = onCleanup(`bench directory ${base}`, () => {
    // Never recurse into a mount that is still there (a file system that would not stop).
    for (const m of mountsUnder(base)) spawnSync('umount', ['-l', m]);
    if (mountsUnder(base).length === 0) rmSync(base, { recursive: true, force: true });
  });
  const nodes: Array<{ engine: Engine; manager: RunningManager; agent?: RunningAgent }> = [];
  let cfs: CFs | undefined;
  let tmpfs: { file: string; stop: () => Promise<void> } | undefined;
  try {
    const { hello, readloop } = build(base);
    log(`built ${hello} and ${readloop} (gcc -O2, pkg-config fuse)`);

    // One manager + agent per engine (a service's single task lands on one node: separate clusters).
    const hushSystems: Array<{ name: string; file: string }> = [];
    for (const engine of engines()) {
      const manager = await startManager();
      const node: (typeof nodes)[number] = { engine, manager };
      nodes.push(node);
      const agent = await startAgent(manager, { cpuProfDir: opts.cpuProfDir, env: { HUSH_FS_ENGINE: engine } });
      node.agent = agent;
      const control = manager.control();
      await unary(control, 'CreateSecret', { name: 'bench-read', data: randomBytes(SIZE), labels: {} });
      await unary(control, 'CreateService', { name: 'read', replicas: 1, secrets: [{ secretName: 'bench-read', target: 'pw', uid: 0, gid: 0, mode: 0o400 }] });
      const hushFile = join(agent.mount, 'read.1', 'pw');
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          if ((await readFile(hushFile)).length === SIZE) break;
        } catch { /* not delivered yet */ }
        if (Date.now() > deadline) throw new Error(`${hushFile} not readable after 10 s`);
        await sleep(10);
      }
      // Check which engine really serves: only the native ones load its addon.
      const loaded = (await readFile(`/proc/${agent.pid}/maps`, 'utf8')).includes(ENGINE_ADDON);
      if (loaded !== (engine !== 'fuse-native')) throw new Error(`the agent for engine ${engine} ${loaded ? 'loaded' : 'did not load'} ${ENGINE_ADDON}`);
      log(`hush agent (pid ${agent.pid}, engine ${engine}) serves ${hushFile}`);
      hushSystems.push({ name: `hush (${engine})`, file: hushFile });
    }
    cfs = await startCFs(hello, base);
    tmpfs = startTmpfs(base);
    log(`C file system serves ${cfs.file}; tmpfs file ${tmpfs.file}`);

    const systems = [
      { name: 'C libfuse2', file: cfs.file },
      ...hushSystems,
      { name: 'tmpfs', file: tmpfs.file },
    ];
    for (const s of systems) await readLoop(readloop, s.file, warm);
    const results = new Map<string, LoopResult[]>(systems.map((s) => [s.name, []]));
    let cOps: Counters | undefined;
    for (let r = 0; r < rounds; r++) {
      for (const s of systems) {
        checkInterrupted();
        const before = s.name === 'C libfuse2' ? await cfs.counters() : undefined;
        const res = await readLoop(readloop, s.file, iters);
        if (before) {
          const after = await cfs.counters();
          cOps ??= Object.fromEntries(Object.keys(after).map((k) => [k, 0]));
          for (const k of Object.keys(after)) cOps[k] += after[k] - (before[k] ?? 0);
        }
        results.get(s.name)!.push(res);
      }
      log(`round ${r + 1}/${rounds}: ${systems.map((s) => `${s.name} ${us(results.get(s.name)![r].mean_us)} µs`).join(', ')}`);
    }

    const summary = new Map(systems.map((s) => {
      const rs = results.get(s.name)!;
      return [s.name, {
        mean: median(rs.map((x) => x.mean_us)), p50: median(rs.map((x) => x.p50_us)), p99: median(rs.map((x) => x.p99_us)),
        rounds: rs.map((x) => x.mean_us),
      }];
    }));
    const c = summary.get('C libfuse2')!;
    const t = summary.get('tmpfs')!;
    const report = table([
      ['system', 'µs per open+read+close', 'p50 µs', 'p99 µs', 'per round (mean µs)'],
      ...systems.map((s) => {
        const x = summary.get(s.name)!;
        return [s.name, us(x.mean), us(x.p50), us(x.p99), x.rounds.map(us).join(' ')];
      }),
    ]);
    report.push(`${rounds} rounds of ${iters} open+read+close per system (${systems.map((s) => s.name).join(', ')} alternating), after ${warm} untimed; figure = median over rounds of each round's mean`);
    for (const hs of hushSystems) {
      const h = summary.get(hs.name)!;
      const roundRatios = h.rounds.map((v, i) => v / c.rounds[i]);
      report.push(`${hs.name}/C: ${(h.mean / c.mean).toFixed(2)}x (per round ${Math.min(...roundRatios).toFixed(2)}-${Math.max(...roundRatios).toFixed(2)}; at p50 ${(h.p50 / c.p50).toFixed(2)}x); ${hs.name}/tmpfs: ${(h.mean / t.mean).toFixed(0)}x`);
    }
    report.push(`C/tmpfs: ${(c.mean / t.mean).toFixed(0)}x`);
    if (cOps) {
      const n = rounds * iters;
      const per = Object.entries(cOps).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${(v / n).toFixed(2)}`);
      const total = Object.values(cOps).reduce((a, b) => a + b, 0) / n;
      report.push(`FUSE requests per open+read+close (counted by the C file system): ${total.toFixed(2)} = ${per.join(', ')} ` +
        `(getattr = LOOKUP of each path component + GETATTR for default_permissions; the kernel sends hush the same)`);
    }
    const figures: Figure[] = [];
    for (const hs of hushSystems) {
      const h = summary.get(hs.name)!;
      report.push(`target: ${hs.name}/C <= ${TARGET_RATIO}x: ${h.mean / c.mean <= TARGET_RATIO ? 'met' : 'NOT met'} (${(h.mean / c.mean).toFixed(2)}x)`);
      const suffix = `, ${hs.name}`;
      figures.push(
        { label: `µs per open+read+close${suffix}`, value: h.mean, unit: ' µs', baseline: c.mean, better: 'lower' },
        { label: `p50 µs per open+read+close${suffix}`, value: h.p50, unit: ' µs', baseline: c.p50, better: 'lower' },
        { label: `p99 µs per open+read+close${suffix}`, value: h.p99, unit: ' µs', baseline: c.p99, better: 'lower' },
      );
    }
    return { report, figures, baselineName: 'C libfuse2' };
  } finally {
    await tmpfs?.stop();
    await cfs?.stop();
    for (const n of nodes.reverse()) {
      await n.agent?.stop();
      await n.manager.stop();
    }
    await removeBase();
  }
}

export const readBench: BenchModule = {
  name: 'read',
  description: 'µs per open+read+close of a 64-byte secret on the node (vs a minimal C libfuse2 file system and tmpfs)',
  run,
};
