// Bench "ha-creates": durable secret creates per second through the Control API with the manager on
// etcd (3 members on loopback, 3 managers; bench/ha-proc.ts), beside the embedded SQLite manager
// and Docker Swarm's POST /secrets/create, in one run. The workloads, targets and ABBA slices are
// bench/creates.ts's; here there are three systems (four in the 8-way modes, see below).
//
// Durability: etcd answers a txn once a quorum has it on disk (each member fsyncs its WAL); the
// SQLite manager commits with synchronous=FULL; Swarm commits to its raft log.
//
//   etcd        CreateSecret on one manager (the first one, whether it leads or not: a secret is a
//               plain store write, no scheduler in the way)
//   etcd x3     8-way, 8-channel mode only: the 8 callers spread over the 3 managers (one channel each), so
//               that 3 processes write the one store at once
//   sqlite      the single manager of bench/creates.ts
//   swarm       a private dockerd, single-node swarm (bench/swarm.ts)
import { execFileSync } from 'node:child_process';
import {
  createSecret, hushTarget, modes as createModes, sliceOf, swarmTarget, workload,
  type Mode, type Target, type Workload,
} from './creates.js';
import {
  abbaOrder, combine, fmtMs, fmtRate, Interrupted, measure, ratio, table,
  type BenchModule, type BenchOptions, type BenchResult, type Figure, type RunStats,
} from './harness.js';
import { startBenchHa, type BenchHa } from './ha-proc.js';
import { startManager, type RunningManager } from './manager-proc.js';
import { BaselineUnavailable, startSwarm, type RunningSwarm } from './swarm.js';

const ROUNDS = 4;

interface System {
  target: Target;
  /** Which store it writes: the acknowledged creates are counted per store at the end. */
  store: string;
  /** Only in the modes this accepts (undefined: every mode). */
  only?: (m: Mode) => boolean;
}

/** 8 callers over every manager of the etcd store, worker w on manager w % n, each on its own channel. */
function spreadTarget(ha: BenchHa): Target {
  const clients = Array.from({ length: 8 }, (_, w) => ha.control(ha.managers[w % ha.managers.length], `spread-${w}`));
  return {
    name: 'etcd x3',
    run: (mode, w) => measure(w.names.length, mode.concurrency, (i, worker) => createSecret(clients[worker], w.names[i], w.payloads[i])),
    count: () => Promise.reject(new Error('counted through the etcd target')),
  };
}

async function run(opts: BenchOptions): Promise<BenchResult> {
  const { log } = opts;
  const ms = createModes(opts.quick);
  const warmN = opts.quick ? 50 : 200;
  let ha: BenchHa | undefined;
  let sqlite: RunningManager | undefined;
  let swarm: RunningSwarm | undefined;
  let baselineSkipped: string | undefined;
  try {
    ha = await startBenchHa();
    const leader = await ha.leader();
    const first = ha.managers[0];
    log(`3 etcd members and 3 hush managers up; creates go to ${ha.addr(first)} (${first === leader ? 'the leader' : 'not the leader'})`);
    sqlite = await startManager({ cpuProfDir: opts.cpuProfDir });
    log(`SQLite manager up (pid ${sqlite.pid})`);
    if (!opts.baseline) baselineSkipped = 'turned off (--no-baseline)';
    else {
      try {
        swarm = await startSwarm(log);
      } catch (e) {
        if (!(e instanceof BaselineUnavailable)) throw e;
        baselineSkipped = e.message;
        log(`baseline skipped: ${baselineSkipped}`);
      }
    }
    const firstClient = { control: (key?: string) => ha!.control(first, key) };
    let systems: System[] = [
      { target: hushTarget(firstClient, 'etcd'), store: 'etcd' },
      { target: spreadTarget(ha), store: 'etcd', only: (m) => m.channels === 8 },
      { target: hushTarget(sqlite, 'sqlite'), store: 'sqlite' },
      ...(swarm ? [{ target: swarmTarget(swarm), store: 'swarm' }] : []),
    ];
    const expected = new Map<string, number>(systems.map((s) => [s.store, 0]));
    const attempt = async (s: System, mode: Mode, w: Workload): Promise<RunStats | undefined> => {
      try {
        const st = await s.target.run(mode, w);
        expected.set(s.store, expected.get(s.store)! + w.names.length);
        return st;
      } catch (e) {
        if (s.store !== 'swarm' || e instanceof Interrupted) throw e;
        baselineSkipped = `swarm failed during ${mode.key}: ${(e as Error).message}`;
        log(`baseline skipped: ${baselineSkipped}`);
        systems = systems.filter((x) => x !== s);
        return undefined;
      }
    };
    const inMode = (mode: Mode) => systems.filter((s) => !s.only || s.only(mode));
    // Secret names per system: two systems on one store must not create the same name.
    const tag = (s: System) => s.target.name.replace(/[^a-z0-9]/gi, '');

    for (const [concurrency, channels] of [[1, 1], [8, 1], [8, 8]]) {
      const mode: Mode = { key: 'warm-up', label: 'warm-up', n: warmN, payloadBytes: 64, concurrency, channels };
      for (const s of inMode(mode)) await attempt(s, mode, workload(`warm-${tag(s)}-${concurrency}-${channels}`, warmN, 64));
    }
    log(`warmed up (${warmN} creates x 3 per system)`);

    const rows: Array<{ mode: Mode; stats: Map<string, RunStats>; rounds: Map<string, RunStats[]> }> = [];
    for (const mode of ms) {
      const w = workload(`b-${mode.key}`, mode.n, mode.payloadBytes);
      const here = inMode(mode);
      if (mode.payloadBytes > 64) {
        for (const s of here) await attempt(s, { ...mode, key: `${mode.key} warm-up` }, workload(`warm-${mode.key}-${tag(s)}`, 20, mode.payloadBytes));
      }
      const per = new Map<string, Workload>(here.map((s) => [s.target.name, s.target.name === 'etcd x3'
        ? { ...w, names: w.names.map((n) => `${n}-x3`) } : w]));
      const rounds = new Map<string, RunStats[]>(here.map((s) => [s.target.name, []]));
      for (let r = 0; r < ROUNDS; r++) {
        const from = Math.floor((r * mode.n) / ROUNDS);
        const to = Math.floor(((r + 1) * mode.n) / ROUNDS);
        for (const s of abbaOrder(inMode(mode), r)) {
          const st = await attempt(s, mode, sliceOf(per.get(s.target.name)!, from, to));
          if (st) rounds.get(s.target.name)!.push(st);
        }
      }
      const stats = new Map<string, RunStats>();
      for (const s of inMode(mode)) {
        const st = combine(rounds.get(s.target.name)!);
        stats.set(s.target.name, st);
        log(`${s.target.name.padEnd(7)} ${mode.label.padEnd(24)} ${fmtRate(st.rate).padStart(6)}/s  p50 ${fmtMs(st.p50Ms)} ms  p99 ${fmtMs(st.p99Ms)} ms  (rounds ${rounds.get(s.target.name)!.map((x) => fmtRate(x.rate)).join(' ')} /s)`);
      }
      rows.push({ mode, stats, rounds });
    }

    // Every acknowledged create must be there, counted once per store.
    for (const s of systems) {
      if (s.only) continue;
      const have = await s.target.count();
      if (have !== expected.get(s.store)) throw new Error(`${s.store} lists ${have} secrets, expected ${expected.get(s.store)}`);
    }

    const cell = (st: RunStats | undefined) => [fmtRate(st?.rate), fmtMs(st?.p50Ms), fmtMs(st?.p99Ms)];
    const roundRange = (a: RunStats[] | undefined, b: RunStats[] | undefined) => {
      if (!a || !b || a.length !== b.length || !a.length) return '-';
      const rs = a.map((x, i) => x.rate / b[i].rate);
      return `${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}`;
    };
    const report = table([
      ['mode', 'N', 'etcd/s', 'p50 ms', 'p99 ms', 'sqlite/s', 'p50 ms', 'p99 ms', 'swarm/s', 'p50 ms', 'p99 ms',
        'etcd/sqlite', 'per round', 'etcd/swarm', 'etcd x3/s'],
      ...rows.map(({ mode, stats, rounds }) => {
        const e = stats.get('etcd')!;
        const q = stats.get('sqlite')!;
        const sw = stats.get('swarm');
        return [mode.label, String(mode.n), ...cell(e), ...cell(q), ...cell(sw),
          ratio({ value: e.rate, baseline: q.rate, better: 'higher' }), roundRange(rounds.get('etcd'), rounds.get('sqlite')),
          ratio({ value: e.rate, baseline: sw?.rate, better: 'higher' }), fmtRate(stats.get('etcd x3')?.rate)];
      }),
    ]);
    report.push(`each mode in ${ROUNDS} rounds of N/${ROUNDS}, the systems alternating ABBA; "per round": range of the per-round etcd/sqlite ratios`);
    report.push(`etcd: ${ha.cluster.etcd.members.length} members on loopback (etcd ${etcdVersion()}), ${ha.managers.length} managers; creates on ${ha.addr(first)} (${first === leader ? 'leader' : 'not leader'}); "etcd x3": the 8 callers spread over the ${ha.managers.length} managers`);
    if (swarm) report.push(`swarm: dockerd ${swarm.dockerdVersion}, single-node swarm; its 8-way modes use 8 keep-alive HTTP/1.1 connections`);
    if (baselineSkipped) report.push(`baseline skipped: ${baselineSkipped}`);
    report.push(`all acknowledged creates present afterwards (${[...expected].map(([k, v]) => `${k} ${v}`).join(', ')})`);

    const figures: Figure[] = rows.flatMap(({ mode, stats }) => [
      { label: `creates/s on etcd vs sqlite, ${mode.label}`, value: stats.get('etcd')!.rate, unit: '/s', baseline: stats.get('sqlite')!.rate, better: 'higher' as const },
      ...(stats.get('swarm') ? [{ label: `creates/s on etcd vs swarm, ${mode.label}`, value: stats.get('etcd')!.rate, unit: '/s', baseline: stats.get('swarm')!.rate, better: 'higher' as const }] : []),
    ]);
    return { report, figures, baselineSkipped };
  } finally {
    await Promise.allSettled([
      swarm?.stop().then(() => log('dockerd stopped, swarm data root removed')),
      sqlite?.stop(),
      ha?.stop(),
    ]);
  }
}

function etcdVersion(): string {
  try {
    return /etcd Version: (\S+)/.exec(execFileSync('etcd', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

export const haCreatesBench: BenchModule = {
  name: 'ha-creates',
  description: 'durable secret creates/s with the manager on etcd (3 members) vs the SQLite manager vs Docker Swarm',
  run,
};
