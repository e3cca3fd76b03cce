// Bench "ha-latency": the revoke (P1) and deliver (P2) cycle of bench/lifecycle.ts with the managers
// on etcd (3 members on loopback, 3 managers; bench/ha-proc.ts) beside the embedded SQLite manager,
// in one run, each with its own real agent and FUSE mount, one prober thread for all:
//
//   sqlite      one manager on SQLite, its agent (bench/manager-proc.ts, bench/agent-proc.ts)
//   etcd same   the control calls on the manager that holds the agent's stream
//   etcd other  the control calls on another manager (not the agent's; not the leader when it can
//               be avoided), so a change crosses managers through etcd's watch: caller → store →
//               leader (placement) → the agent's manager → agent
//
// One cycle (bench/lifecycle.ts hushSystem): CreateService issued → the task's file readable on the
// node (deliver), ready + 20 ms, RemoveService issued → open() fails (revoke), 20 ms. Swarm is not
// run here: the revoke and deliver benches measure it against the SQLite manager.
import { randomBytes } from 'node:crypto';
import { unary } from '../integration/helpers/grpc.js';
import { startAgent, type RunningAgent as BenchAgent } from './agent-proc.js';
import { abbaOrder, checkInterrupted, fmtMs, table, type BenchModule, type BenchOptions, type BenchResult, type Figure } from './harness.js';
import { startBenchHa, type BenchHa, type HaManager } from './ha-proc.js';
import { hushSystem, summarize, type Cycle, type Summary } from './lifecycle.js';
import { startManager, type ControlClient, type RunningManager } from './manager-proc.js';
import { Probe } from './probe.js';

const ROUNDS = 4;

interface System {
  name: string;
  cycle(i: number): Promise<Cycle>;
}

async function agentManager(ha: BenchHa, status: () => Promise<{ connection: { state: string; manager?: string } }>): Promise<HaManager> {
  const st = await status();
  const m = ha.managers.find((x) => ha.addr(x) === st.connection.manager);
  if (st.connection.state !== 'connected' || !m) throw new Error(`the agent is not connected (${JSON.stringify(st.connection)})`);
  return m;
}

async function run(opts: BenchOptions): Promise<BenchResult> {
  const { log, quick } = opts;
  const n = quick ? 40 : 200;
  const warm = quick ? 5 : 10;
  let sqlite: RunningManager | undefined;
  let sqliteAgent: BenchAgent | undefined;
  let ha: BenchHa | undefined;
  let probe: Probe | undefined;
  try {
    sqlite = await startManager({ cpuProfDir: opts.cpuProfDir });
    sqliteAgent = await startAgent(sqlite, { hostname: `bench-sqlite-${process.pid}` });
    ha = await startBenchHa();
    const haAgent = await ha.agent(`bench-etcd-${process.pid}`);
    const leader = await ha.leader();
    const on = await agentManager(ha, () => haAgent.status());
    const other = ha.managers.find((m) => m !== on && m !== leader) ?? ha.managers.find((m) => m !== on)!;
    const role = (m: HaManager) => `${ha!.addr(m)}${m === leader ? ', leader' : ''}`;
    log(`SQLite manager + agent up; 3 etcd members, 3 managers; the agent's stream on ${role(on)}, "other" calls on ${role(other)}`);

    probe = new Probe();
    const secret = 'bench-latency';
    const sqControl = sqlite.control();
    await unary(sqControl, 'CreateSecret', { name: secret, data: randomBytes(64), labels: {} });
    const onControl: ControlClient = ha.control(on);
    await unary(onControl, 'CreateSecret', { name: secret, data: randomBytes(64), labels: {} });
    const systems: System[] = [
      { ...hushSystem(sqControl, sqliteAgent, probe, secret, 'sqlite'), name: 'sqlite' },
      { ...hushSystem(onControl, haAgent, probe, secret, 'etcd-same'), name: 'etcd same' },
      { ...hushSystem(ha.control(other), haAgent, probe, secret, 'etcd-other'), name: 'etcd other' },
    ];
    const cycles = new Map<string, Cycle[]>(systems.map((s) => [s.name, []]));
    let seq = 0;
    for (const s of systems) for (let i = 0; i < warm; i++) await s.cycle(seq++);
    log(`warmed up (${warm} cycles each)`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of abbaOrder(systems, r)) {
        const k = Math.floor(((r + 1) * n) / ROUNDS) - Math.floor((r * n) / ROUNDS);
        const t = Date.now();
        for (let i = 0; i < k; i++) {
          checkInterrupted();
          cycles.get(s.name)!.push(await s.cycle(seq++));
        }
        const last = cycles.get(s.name)!.slice(-k);
        log(`round ${r + 1}/${ROUNDS} ${s.name.padEnd(10)} ${k} cycles in ${((Date.now() - t) / 1000).toFixed(1)} s: deliver p50 ${fmtMs(summarize(last, 'deliver').p50)} ms, revoke p50 ${fmtMs(summarize(last, 'revoke').p50)} ms`);
      }
    }

    const sums = new Map(systems.map((s) => [s.name, { deliver: summarize(cycles.get(s.name)!, 'deliver'), revoke: summarize(cycles.get(s.name)!, 'revoke') }]));
    const base = sums.get('sqlite')!;
    const x = (a: Summary, b: Summary, k: 'p50' | 'p99') => `${(a[k] / b[k]).toFixed(2)}x`;
    const report = table([
      ['system', 'runs', 'deliver p50', 'p99', 'max', 'create call p50', 'revoke p50', 'p99', 'max', 'remove call p50', 'vs sqlite deliver p50/p99', 'revoke p50/p99'],
      ...systems.map((s) => {
        const { deliver: d, revoke: v } = sums.get(s.name)!;
        return [s.name, String(d.n), fmtMs(d.p50), fmtMs(d.p99), fmtMs(d.max), fmtMs(d.callP50), fmtMs(v.p50), fmtMs(v.p99), fmtMs(v.max), fmtMs(v.callP50),
          `${x(d, base.deliver, 'p50')} / ${x(d, base.deliver, 'p99')}`, `${x(v, base.revoke, 'p50')} / ${x(v, base.revoke, 'p99')}`];
      }),
    ]);
    report.push('ms; "vs sqlite": the etcd figure / the SQLite figure of the same run (> 1: slower on etcd)');
    report.push(`etcd: the agent's stream on ${role(on)}; "etcd other" calls on ${role(other)}; the leader (placement) ${ha.addr(leader)}`);
    const codes = new Map<string, number>();
    for (const c of [...cycles.values()].flat()) codes.set(c.revokeCode, (codes.get(c.revokeCode) ?? 0) + 1);
    report.push(`the first failing open() gave ${[...codes].map(([k, v]) => `${k} x${v}`).join(', ')}`);
    report.push(`systems alternating ABBA in ${ROUNDS} rounds, ${n} cycles each after ${warm} warm-ups; Swarm: see the revoke and deliver benches`);

    const figures: Figure[] = [];
    for (const name of ['etcd same', 'etcd other']) {
      const s = sums.get(name)!;
      for (const kind of ['deliver', 'revoke'] as const) {
        for (const k of ['p50', 'p99'] as const) {
          figures.push({ label: `${kind} ${k}, ${name} vs sqlite`, value: s[kind][k], unit: ' ms', baseline: base[kind][k], better: 'lower' });
        }
      }
    }
    return { report, figures };
  } finally {
    await probe?.close();
    await sqliteAgent?.stop();
    await Promise.allSettled([sqlite?.stop(), ha?.stop()]);
  }
}

export const haLatencyBench: BenchModule = {
  name: 'ha-latency',
  description: 'revoke and deliver latency with the managers on etcd (the agent\'s manager, another manager) vs the SQLite manager',
  run,
};
