// Bench "creates": durable secret creates per second through the admin Control API
// (CreateSecret on the manager's unix socket), side by side with Docker Swarm's
// POST /secrets/create through its Engine API on the same machine.
//
// Every create is acknowledged only once it is durable: hush commits it in SQLite (WAL,
// synchronous=FULL, group commit), swarm commits it to its raft log (fsync) before answering.
//
// Modes; each mode's N calls are made in 4 rounds of N/4 with the systems alternating ABBA
// (hush swarm, swarm hush, ...), so the ratio compares neighbours in time on a noisy machine:
//   seq-64B        N sequential calls, one at a time, 64-byte random payloads
//   8way-1ch-64B   8 calls outstanding at all times on one gRPC channel (HTTP/2 connection)
//   8way-8ch-64B   8 calls outstanding, one per channel, 8 channels
//   seq-100KB      sequential, 100 KiB random payloads
// For swarm both 8-way modes use 8 keep-alive HTTP/1.1 connections (HTTP/1.1 cannot multiplex).
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import {
  abbaOrder, combine, fmtMs, fmtRate, Interrupted, measure, ratio, table,
  type BenchModule, type BenchOptions, type BenchResult, type Figure, type RunStats,
} from './harness.js';
import { startManager, type ControlClient, type RunningManager } from './manager-proc.js';
import { API_VERSION, BaselineUnavailable, startSwarm, type RunningSwarm } from './swarm.js';

const TARGET_SEQUENTIAL_PER_S = 700;
/** Each mode's N calls are made in this many slices, alternating the systems (see abbaOrder). */
const ROUNDS = 4;

export interface Mode {
  key: string;
  label: string;
  n: number;
  payloadBytes: number;
  concurrency: number;
  /** hush: 1 = all calls on one channel, else one channel per outstanding call. */
  channels: number;
}

export function modes(quick: boolean): Mode[] {
  const n = quick ? 500 : 3000;
  const nBig = quick ? 100 : 500;
  return [
    { key: 'seq-64B', label: 'sequential, 64 B', n, payloadBytes: 64, concurrency: 1, channels: 1 },
    { key: '8way-1ch-64B', label: '8-way, 1 channel, 64 B', n, payloadBytes: 64, concurrency: 8, channels: 1 },
    { key: '8way-8ch-64B', label: '8-way, 8 channels, 64 B', n, payloadBytes: 64, concurrency: 8, channels: 8 },
    { key: 'seq-100KB', label: 'sequential, 100 KiB', n: nBig, payloadBytes: 100 * 1024, concurrency: 1, channels: 1 },
  ];
}

export interface Workload {
  names: string[];
  payloads: Buffer[];
  /** The same payloads, base64 for the Engine API (encoded before timing, like hush's Buffers). */
  base64: string[];
}

export function sliceOf(w: Workload, from: number, to: number): Workload {
  return { names: w.names.slice(from, to), payloads: w.payloads.slice(from, to), base64: w.base64.slice(from, to) };
}

export function workload(prefix: string, n: number, bytes: number): Workload {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const payloads = Array.from({ length: n }, () => randomBytes(bytes));
  return { names, payloads, base64: payloads.map((p) => p.toString('base64')) };
}

// ---------------------------------------------------------------------------------------------
// The systems behind one interface (ha-creates.ts adds a manager on etcd)

export interface Target {
  name: string;
  /** Runs the workload with the mode's concurrency and returns per-call statistics. */
  run(mode: Mode, w: Workload): Promise<RunStats>;
  count(): Promise<number>;
}

export function createSecret(client: ControlClient, name: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    client.CreateSecret({ name, data, labels: {} }, (err) => (err ? reject(err) : resolve()));
  });
}

/** CreateSecret on one manager; 8 per-worker channels for the modes that want them. */
export function hushTarget(manager: Pick<RunningManager, 'control'>, name = 'hush'): Target {
  const shared = manager.control();
  const perWorker = Array.from({ length: 8 }, (_, i) => manager.control(`bench-${i}`));
  return {
    name,
    run(mode, w) {
      return measure(w.names.length, mode.concurrency, (i, worker) =>
        createSecret(mode.channels > 1 ? perWorker[worker % perWorker.length] : shared, w.names[i], w.payloads[i]));
    },
    count() {
      return new Promise((resolve, reject) => shared.ListSecrets({}, (err, res) => (err ? reject(err) : resolve(res!.secrets.length))));
    },
  };
}

export function swarmTarget(swarm: RunningSwarm): Target {
  const pools = new Map<number, http.Agent>();
  const pool = (n: number) => {
    if (!pools.has(n)) pools.set(n, swarm.agent(n));
    return pools.get(n)!;
  };
  return {
    name: 'swarm',
    run(mode, w) {
      const agent = pool(mode.concurrency);
      return measure(w.names.length, mode.concurrency, async (i) => {
        const res = await swarm.api('POST', `/${API_VERSION}/secrets/create`, { Name: w.names[i], Data: w.base64[i], Labels: {} }, agent);
        if (res.status !== 201) throw new Error(`swarm secret create ${w.names[i]}: ${res.status} ${res.body.trim()}`);
      });
    },
    async count() {
      const res = await swarm.api('GET', `/${API_VERSION}/secrets`);
      return (JSON.parse(res.body) as unknown[]).length;
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function run(opts: BenchOptions): Promise<BenchResult> {
  const { log } = opts;
  const ms = modes(opts.quick);
  const warmN = opts.quick ? 50 : 200;
  let manager: RunningManager | undefined;
  let swarm: RunningSwarm | undefined;
  let baselineSkipped: string | undefined;
  try {
    manager = await startManager({ cpuProfDir: opts.cpuProfDir });
    log(`hush manager up (pid ${manager.pid}, ${manager.stateDir})`);
    if (!opts.baseline) {
      baselineSkipped = 'turned off (--no-baseline)';
    } else {
      try {
        swarm = await startSwarm(log);
      } catch (e) {
        if (!(e instanceof BaselineUnavailable)) throw e;
        baselineSkipped = e.message;
        log(`baseline skipped: ${baselineSkipped}`);
      }
    }
    let targets = [hushTarget(manager), ...(swarm ? [swarmTarget(swarm)] : [])];
    const expected = new Map<string, number>(targets.map((t) => [t.name, 0]));
    // Runs one workload on one system. A baseline that breaks half-way is dropped (and said so);
    // hush breaking fails the bench.
    const attempt = async (t: Target, mode: Mode, w: Workload): Promise<RunStats | undefined> => {
      try {
        const stats = await t.run(mode, w);
        expected.set(t.name, expected.get(t.name)! + w.names.length);
        return stats;
      } catch (e) {
        if (t.name === 'hush' || e instanceof Interrupted) throw e;
        baselineSkipped = `${t.name} failed during ${mode.key}: ${(e as Error).message}`;
        log(`baseline skipped: ${baselineSkipped}`);
        targets = targets.filter((x) => x !== t);
        return undefined;
      }
    };

    // Warm-up: connections, JIT, SQLite page cache / raft, on both paths (64 B, sequential and 8-way).
    for (const t of targets) {
      for (const [concurrency, channels] of [[1, 1], [8, 1], [8, 8]]) {
        const w = workload(`warm-${concurrency}-${channels}`, warmN, 64);
        await attempt(t, { key: 'warm-up', label: 'warm-up', n: warmN, payloadBytes: 64, concurrency, channels }, w);
      }
    }
    log(`warmed up (${warmN} creates x 3 per system)`);

    const results: Array<{ mode: Mode; hush: RunStats; swarm?: RunStats; roundRatios: number[] }> = [];
    for (const mode of ms) {
      const w = workload(`b-${mode.key}`, mode.n, mode.payloadBytes);
      if (mode.payloadBytes > 64) {
        // A few large creates first, so the first timed ones don't pay for growing buffers/files.
        const wb = workload(`warm-${mode.key}`, 20, mode.payloadBytes);
        for (const t of targets) await attempt(t, { ...mode, key: `${mode.key} warm-up` }, wb);
      }
      // The N calls in ROUNDS slices, systems alternating ABBA, each slice timed on its own.
      const perRound = new Map<string, RunStats[]>(targets.map((t) => [t.name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        const slice = sliceOf(w, Math.floor((r * mode.n) / ROUNDS), Math.floor(((r + 1) * mode.n) / ROUNDS));
        for (const t of abbaOrder(targets, r)) {
          const st = await attempt(t, mode, slice);
          if (st) perRound.get(t.name)!.push(st);
        }
      }
      const row: { mode: Mode; hush?: RunStats; swarm?: RunStats; roundRatios: number[] } = { mode, roundRatios: [] };
      for (const t of targets) {
        const st = combine(perRound.get(t.name)!);
        row[t.name as 'hush' | 'swarm'] = st;
        const rates = perRound.get(t.name)!.map((x) => fmtRate(x.rate)).join(' ');
        log(`${t.name.padEnd(5)} ${mode.label.padEnd(24)} ${fmtRate(st.rate).padStart(6)}/s  p50 ${fmtMs(st.p50Ms)} ms  p99 ${fmtMs(st.p99Ms)} ms  (${st.n} in ${st.seconds.toFixed(2)} s; rounds ${rates} /s)`);
      }
      const hushRounds = perRound.get('hush')!;
      const swarmRounds = perRound.get('swarm');
      if (swarmRounds && swarmRounds.length === hushRounds.length) {
        row.roundRatios = hushRounds.map((h, i) => h.rate / swarmRounds[i].rate);
      }
      results.push(row as { mode: Mode; hush: RunStats; swarm?: RunStats; roundRatios: number[] });
    }

    // Every acknowledged create must be there.
    for (const t of targets) {
      const have = await t.count();
      if (have !== expected.get(t.name)) throw new Error(`${t.name} lists ${have} secrets, expected ${expected.get(t.name)}`);
    }

    const report = table([
      ['mode', 'N', 'hush/s', 'p50 ms', 'p99 ms', 'swarm/s', 'p50 ms', 'p99 ms', 'hush/swarm', 'per round'],
      ...results.map((r) => [
        r.mode.label, String(r.mode.n),
        fmtRate(r.hush.rate), fmtMs(r.hush.p50Ms), fmtMs(r.hush.p99Ms),
        fmtRate(r.swarm?.rate), fmtMs(r.swarm?.p50Ms), fmtMs(r.swarm?.p99Ms),
        ratio({ value: r.hush.rate, baseline: r.swarm?.rate, better: 'higher' }),
        r.roundRatios.length ? `${Math.min(...r.roundRatios).toFixed(2)}-${Math.max(...r.roundRatios).toFixed(2)}` : '-',
      ]),
    ]);
    if (baselineSkipped) report.push(`baseline skipped: ${baselineSkipped}`);
    else {
      report.push(`each mode in ${ROUNDS} rounds of N/${ROUNDS}, hush and swarm alternating ABBA; "per round" is the range of the per-round ratios`);
      report.push(`swarm: dockerd ${swarm!.dockerdVersion}, single-node swarm; its 8-way modes use 8 keep-alive HTTP/1.1 connections`);
    }
    const seq = results[0].hush.rate;
    report.push(`target: hush >= ${TARGET_SEQUENTIAL_PER_S}/s sequential (64 B): ${seq >= TARGET_SEQUENTIAL_PER_S ? 'met' : 'NOT met'} (${fmtRate(seq)}/s)`);
    report.push(`all acknowledged creates present afterwards (${[...expected].map(([k, v]) => `${k} ${v}`).join(', ')})`);

    const figures: Figure[] = results.map((r) => ({
      label: `creates/s, ${r.mode.label}`, value: r.hush.rate, unit: '/s', baseline: r.swarm?.rate, better: 'higher',
    }));
    return { report, figures, baselineName: 'swarm', baselineSkipped };
  } finally {
    // Both cleanups run even if one fails.
    await Promise.allSettled([
      swarm?.stop().then(() => log('dockerd stopped, swarm data root removed')),
      manager?.stop(),
    ]);
  }
}

export const createsBench: BenchModule = {
  name: 'creates',
  description: 'durable secret creates per second through the Control API (vs Docker Swarm POST /secrets/create)',
  run,
};
