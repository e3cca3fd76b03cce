// The shared engine of the "deliver" and "revoke" benches: a service's whole life on one node,
// end to end, with real processes, timed at the node's file system.
//
//   hush:  a real manager (bench/manager-proc.ts) and a real agent process (bench/agent-proc.ts)
//          serving its FUSE mount; Control calls on the manager's unix socket (grpc-js).
//   swarm: a private dockerd in a single-node swarm (bench/swarm.ts), real tasks of a local image
//          (bench/swarm-tasks.ts); Engine API calls on its unix socket.
//
// One cycle, for both systems:
//   1. a prober (worker thread, bench/probe-worker.ts) loops open+read+close on the task's secret
//      file (swarm: scans for a new container's secret file) until it reads data;
//      t0 = just before CreateService / POST /services/create is issued; deliver = file readable - t0
//   2. settle: the task is reported ready (hush: ListTasks; swarm: task state running), plus 20 ms
//   3. the prober loops open+close on the file until open() fails;
//      t0 = just before RemoveService / DELETE /services/{id}; revoke = first failing open - t0
//   4. settle 20 ms (swarm: until the container's directory is removed, then 20 ms)
// The call's own return is timed too (issue → answer), for both calls.
// Times: performance.timeOrigin + performance.now() in both threads (bench/probe.ts `clock`).
//
// The systems alternate in rounds (ABBA), so that the machine's changing load weighs on both alike.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startAgent, type RunningAgent } from './agent-proc.js';
import { unary } from '../integration/helpers/grpc.js';
import {
  abbaOrder, checkInterrupted, fmtMs, Interrupted, onCleanup, percentile, sleep, table,
  type BenchOptions, type BenchResult, type Figure,
} from './harness.js';
import { startManager, type ControlClient, type RunningManager } from './manager-proc.js';
import { TestNode } from '../integration/helpers/node.js';
import { clock, Probe, type ProbeResult } from './probe.js';
import { API_VERSION, BaselineUnavailable, startSwarm, type RunningSwarm } from './swarm.js';
import { prepareSwarmTasks, type SwarmTasks } from './swarm-tasks.js';

const SETTLE_MS = 20;
/**
 * Pause between the prober's attempts on hush's files: 0 (the default) is a tight loop.
 * HUSH_BENCH_PROBE_GAP_MS=1 (say) shows how much of the tail is the loop's own load on a small machine.
 */
const PROBE_GAP_MS = Number(process.env.HUSH_BENCH_PROBE_GAP_MS ?? 0) || 0;
const PROBE_TIMEOUT_MS = 30_000;
const ROUNDS = 4;
/**
 * HUSH_BENCH_NODE_LOAD=N: before the cycles, N other services (one secret each) are placed on the
 * node, so that the cycles measure a node that already serves N tasks (the cost of a change that
 * grows with what the node holds shows up here).
 */
const NODE_LOAD = Number(process.env.HUSH_BENCH_NODE_LOAD ?? 0) || 0;
/**
 * HUSH_BENCH_CLUSTER_LOAD=N: before the cycles, N other services (one secret each) run on
 * LOAD_NODES test nodes (integration/helpers/node.ts: real certificates, real streams, heartbeats)
 * labelled load=1, so that the cycles measure a cluster of N services where the node itself holds
 * none of them (the cost of a change that grows with the cluster shows up here).
 */
const CLUSTER_LOAD = Number(process.env.HUSH_BENCH_CLUSTER_LOAD ?? 0) || 0;
const LOAD_NODES = 10;
/** The measured services stay off the load nodes. */
const MEASURED_CONSTRAINTS = CLUSTER_LOAD > 0 ? ['node.labels.load!=1'] : [];

export interface Cycle {
  /** Issue → file readable (ms). */
  deliverMs: number;
  /** Issue → CreateService answered. */
  createCallMs: number;
  /** Issue → first failing open(). */
  revokeMs: number;
  /** Issue → RemoveService answered. */
  removeCallMs: number;
  /** Duration of the decisive probe call (the resolution of the measurement), per phase. */
  deliverProbeMs: number;
  revokeProbeMs: number;
  /** The error of the first failing open(). */
  revokeCode: string;
}

export interface System {
  name: 'hush' | 'swarm';
  cycle(i: number): Promise<Cycle>;
}

// ---------------------------------------------------------------------------------------------
// hush

async function waitTaskReady(control: ControlClient, service: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { tasks } = await unary<{ tasks: Array<{ state: string }> }>(control, 'ListTasks', { service, node: '' });
    if (tasks.length > 0 && tasks.every((t) => t.state === 'ready')) return;
    if (Date.now() > deadline) throw new Error(`hush task of ${service} not ready after ${timeoutMs} ms (${tasks.map((t) => t.state).join(',') || 'no task'})`);
    await sleep(2);
  }
}

/** Creates `n` services of one secret each (`load-<i>`), placed by `constraints`. */
async function createLoad(control: ControlClient, n: number, constraints: string[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    await unary(control, 'CreateSecret', { name: `load-${i}`, data: randomBytes(64), labels: {} });
    await unary(control, 'CreateService', {
      name: `load-${i}`, replicas: 1, constraints, secrets: [{ secretName: `load-${i}`, target: 'pw', uid: 0, gid: 0, mode: 0o400 }],
    });
  }
}

/** Places `n` services of one secret each on the node and waits until the last one's file is served. */
async function loadNode(control: ControlClient, agent: RunningAgent, n: number, log: (line: string) => void): Promise<void> {
  const t = Date.now();
  await createLoad(control, n, []);
  const last = join(agent.mount, `load-${n - 1}.1`, 'pw');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      readdirSync(dirname(last));
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`node load: ${last} not served after 120 s`);
      await sleep(50);
    }
  }
  log(`node load: ${n} services (one secret each) served by the agent after ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

/** Joins LOAD_NODES test nodes labelled load=1 and runs `n` services on them; returns a stop function. */
async function loadCluster(manager: RunningManager, control: ControlClient, n: number, log: (line: string) => void): Promise<() => void> {
  const t = Date.now();
  const { token } = await unary<{ token: string }>(control, 'GetJoinToken', { role: 'worker' });
  const nodes: TestNode[] = [];
  const stop = onCleanup('load test nodes', () => { for (const node of nodes) node.close(); });
  for (let i = 0; i < LOAD_NODES; i++) {
    const node = await TestNode.join(`127.0.0.1:${manager.port}`, token, `load-${i}`, { load: '1' });
    nodes.push(node);
    node.open();
    node.startHeartbeats(1000);
  }
  await createLoad(control, n, ['node.labels.load==1']);
  const deadline = Date.now() + 120_000;
  for (let held = 0; held < n; held = nodes.reduce((sum, node) => sum + node.state.tasks.size, 0)) {
    if (Date.now() > deadline) throw new Error(`cluster load: the test nodes hold ${held} of ${n} load tasks after 120 s`);
    await sleep(50);
  }
  log(`cluster load: ${n} services (one secret each) on ${LOAD_NODES} test nodes after ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return stop;
}

export function hushSystem(control: ControlClient, agent: Pick<RunningAgent, 'mount'>, probe: Probe, secretName: string, prefix: string): System {
  return {
    name: 'hush',
    async cycle(i) {
      const service = `${prefix}-${i}`;
      const path = join(agent.mount, `${service}.1`, 'pw');

      const present = probe.start({ op: 'readable', path, timeoutMs: PROBE_TIMEOUT_MS, gapMs: PROBE_GAP_MS });
      await present.polling;
      const c0 = clock();
      await unary(control, 'CreateService', {
        name: service, replicas: 1, constraints: MEASURED_CONSTRAINTS, secrets: [{ secretName, target: 'pw', uid: 0, gid: 0, mode: 0o400 }],
      });
      const c1 = clock();
      const p = await present.done;

      await waitTaskReady(control, service, 10_000);
      await sleep(SETTLE_MS);

      const gone = probe.start({ op: 'gone', path, timeoutMs: PROBE_TIMEOUT_MS, gapMs: PROBE_GAP_MS });
      await gone.polling;
      const r0 = clock();
      await unary(control, 'RemoveService', { ref: service });
      const r1 = clock();
      const g = await gone.done;
      await sleep(SETTLE_MS);
      return cycleOf(c0, c1, p, r0, r1, g);
    },
  };
}

function cycleOf(c0: number, c1: number, p: ProbeResult, r0: number, r1: number, g: ProbeResult): Cycle {
  return {
    deliverMs: p.t - c0, createCallMs: c1 - c0, deliverProbeMs: p.t - p.tBefore,
    revokeMs: g.t - r0, removeCallMs: r1 - r0, revokeProbeMs: g.t - g.tBefore, revokeCode: g.code ?? '?',
  };
}

// ---------------------------------------------------------------------------------------------
// swarm

async function swarmTaskState(swarm: RunningSwarm, serviceId: string): Promise<string[]> {
  const filters = encodeURIComponent(JSON.stringify({ service: [serviceId] }));
  const res = await swarm.api('GET', `/${API_VERSION}/tasks?filters=${filters}`);
  if (res.status !== 200) throw new Error(`swarm GET /tasks: ${res.status} ${res.body.trim()}`);
  return (JSON.parse(res.body) as Array<{ Status?: { State?: string } }>).map((t) => t.Status?.State ?? '?');
}

function swarmSystem(swarm: RunningSwarm, tasks: SwarmTasks, probe: Probe, secret: { id: string; name: string }, prefix: string): System {
  const rel = tasks.secretRel(secret.id);
  return {
    name: 'swarm',
    async cycle(i) {
      const name = `${prefix}-${i}`;
      let before: string[] = [];
      try {
        before = readdirSync(tasks.containersDir);
      } catch { /* no container yet */ }

      const present = probe.start({ op: 'new-file', dir: tasks.containersDir, rel, exclude: before, timeoutMs: PROBE_TIMEOUT_MS });
      await present.polling;
      const c0 = clock();
      const id = await tasks.createService(name, secret.id, secret.name);
      const c1 = clock();
      const p = await present.done;
      const container = p.found!;

      const deadline = Date.now() + 30_000;
      for (;;) {
        const states = await swarmTaskState(swarm, id);
        if (states.length > 0 && states.every((s) => s === 'running')) break;
        if (states.some((s) => s === 'failed' || s === 'rejected')) throw new Error(`swarm task of ${name}: ${states.join(',')}`);
        if (Date.now() > deadline) throw new Error(`swarm task of ${name} not running after 30 s (${states.join(',')})`);
        await sleep(10);
      }
      await sleep(SETTLE_MS);

      const path = join(tasks.containersDir, container, rel);
      const gone = probe.start({ op: 'gone', path, timeoutMs: PROBE_TIMEOUT_MS });
      await gone.polling;
      const r0 = clock();
      await tasks.removeService(id);
      const r1 = clock();
      const g = await gone.done;
      await tasks.waitContainerGone(container, 15_000);
      await sleep(SETTLE_MS);
      return cycleOf(c0, c1, p, r0, r1, g);
    },
  };
}

// ---------------------------------------------------------------------------------------------

export interface LifecycleBench {
  kind: 'deliver' | 'revoke';
  targetP99Ms: number;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  callP50: number;
  callP99: number;
  probeP50: number;
}

export function summarize(cycles: Cycle[], kind: 'deliver' | 'revoke'): Summary {
  const sorted = (f: (c: Cycle) => number) => Float64Array.from(cycles.map(f)).sort();
  const main = sorted(kind === 'deliver' ? (c) => c.deliverMs : (c) => c.revokeMs);
  const call = sorted(kind === 'deliver' ? (c) => c.createCallMs : (c) => c.removeCallMs);
  const probe = sorted(kind === 'deliver' ? (c) => c.deliverProbeMs : (c) => c.revokeProbeMs);
  return {
    n: cycles.length, p50: percentile(main, 50), p99: percentile(main, 99), max: main[main.length - 1],
    callP50: percentile(call, 50), callP99: percentile(call, 99), probeP50: percentile(probe, 50),
  };
}

export async function runLifecycle(bench: LifecycleBench, opts: BenchOptions): Promise<BenchResult> {
  const { log, quick } = opts;
  const { kind } = bench;
  const hushN = quick ? 40 : 200;
  const swarmN = quick ? 4 : 20;
  const hushWarm = quick ? 5 : 10;
  const swarmWarm = quick ? 1 : 2;

  let manager: RunningManager | undefined;
  let agent: RunningAgent | undefined;
  let swarm: RunningSwarm | undefined;
  let probe: Probe | undefined;
  let stopLoad: (() => unknown) | undefined;
  let baselineSkipped: string | undefined;
  try {
    manager = await startManager({ cpuProfDir: opts.cpuProfDir });
    agent = await startAgent(manager, { cpuProfDir: opts.cpuProfDir });
    log(`hush manager (pid ${manager.pid}) and agent (pid ${agent.pid}, mount ${agent.mount}) up`);
    probe = new Probe();
    const control = manager.control();
    const secretName = `bench-${kind}`;
    await unary(control, 'CreateSecret', { name: secretName, data: randomBytes(64), labels: {} });
    if (NODE_LOAD > 0) await loadNode(control, agent, NODE_LOAD, log);
    if (CLUSTER_LOAD > 0) stopLoad = await loadCluster(manager, control, CLUSTER_LOAD, log);

    let systems: System[] = [hushSystem(control, agent, probe, secretName, `hush-${kind}`)];
    if (!opts.baseline) baselineSkipped = 'turned off (--no-baseline)';
    else {
      try {
        swarm = await startSwarm(log);
        const tasks = await prepareSwarmTasks(swarm, log);
        const name = `bench-${kind}`;
        const id = await tasks.createSecret(name, randomBytes(64));
        systems.push(swarmSystem(swarm, tasks, probe, { id, name }, `swarm-${kind}`));
      } catch (e) {
        if (!(e instanceof BaselineUnavailable)) throw e;
        baselineSkipped = e.message;
        log(`baseline skipped: ${baselineSkipped}`);
      }
    }
    const counts = { hush: hushN, swarm: swarmN };
    const cycles = new Map<string, Cycle[]>(systems.map((s) => [s.name, []]));
    let seq = 0;
    // Runs n cycles of a system; a baseline that breaks is dropped (and said so), hush breaking fails the bench.
    const attempt = async (s: System, n: number, keep: boolean): Promise<void> => {
      try {
        for (let i = 0; i < n; i++) {
          checkInterrupted();
          const c = await s.cycle(seq++);
          if (keep) cycles.get(s.name)!.push(c);
        }
      } catch (e) {
        if (s.name === 'hush' || e instanceof Interrupted) throw e;
        baselineSkipped = `${s.name} failed: ${(e as Error).message}`;
        log(`baseline skipped: ${baselineSkipped}`);
        systems = systems.filter((x) => x !== s);
        cycles.delete(s.name);
      }
    };

    for (const s of [...systems]) await attempt(s, s.name === 'hush' ? hushWarm : swarmWarm, false);
    log(`warmed up (hush ${hushWarm} cycles, swarm ${swarm ? swarmWarm : 0})`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of abbaOrder(systems, r)) {
        const n = Math.floor(((r + 1) * counts[s.name]) / ROUNDS) - Math.floor((r * counts[s.name]) / ROUNDS);
        const t = Date.now();
        await attempt(s, n, true);
        const mine = cycles.get(s.name);
        if (mine) {
          const last = summarize(mine.slice(-n), kind);
          log(`round ${r + 1}/${ROUNDS} ${s.name.padEnd(5)} ${n} cycles in ${((Date.now() - t) / 1000).toFixed(1)} s: ${kind} p50 ${fmtMs(last.p50)} ms, p99 ${fmtMs(last.p99)} ms`);
        }
      }
    }

    const hush = summarize(cycles.get('hush')!, kind);
    const swarmCycles = cycles.get('swarm');
    const base = swarmCycles?.length ? summarize(swarmCycles, kind) : undefined;
    const other = kind === 'deliver' ? 'revoke' : 'deliver';
    const hushOther = summarize(cycles.get('hush')!, other);
    const baseOther = swarmCycles?.length ? summarize(swarmCycles, other) : undefined;

    const what = kind === 'deliver'
      ? { call: 'CreateService', swarmCall: 'POST /services/create', event: 'file readable' }
      : { call: 'RemoveService', swarmCall: 'DELETE /services/{id}', event: 'open() fails' };
    const row = (name: string, s: Summary | undefined) => s
      ? [name, String(s.n), fmtMs(s.p50), fmtMs(s.p99), fmtMs(s.max), fmtMs(s.callP50), fmtMs(s.callP99), fmtMs(s.probeP50)]
      : [name, '-', '-', '-', '-', '-', '-', '-'];
    const report = table([
      ['system', 'runs', `${kind} p50 ms`, 'p99 ms', 'max ms', 'call returns p50 ms', 'p99 ms', 'probe step ms'],
      row('hush', hush),
      row('swarm', base),
    ]);
    report.push(`${kind}: ${what.call} (swarm: ${what.swarmCall}) issued → ${what.event} on the node, seen by a prober thread looping on it`);
    if (NODE_LOAD) report.push(`hush node load: the node also serves ${NODE_LOAD} other services (HUSH_BENCH_NODE_LOAD)`);
    if (CLUSTER_LOAD) report.push(`hush cluster load: ${CLUSTER_LOAD} other services run on ${LOAD_NODES} other nodes (HUSH_BENCH_CLUSTER_LOAD)`);
    if (PROBE_GAP_MS) report.push(`hush prober: ${PROBE_GAP_MS} ms pause between attempts (HUSH_BENCH_PROBE_GAP_MS), not a tight loop`);
    report.push(`"call returns": issued → the control call's answer; "probe step": median duration of the decisive probe call (the measurement's resolution)`);
    if (kind === 'revoke') {
      const codes = new Map<string, number>();
      for (const c of cycles.get('hush')!) codes.set(c.revokeCode, (codes.get(c.revokeCode) ?? 0) + 1);
      report.push(`hush: the first failing open() gave ${[...codes].map(([k, v]) => `${k} x${v}`).join(', ')}`);
    }
    if (base) {
      report.push(`swarm/hush: p50 ${(base.p50 / hush.p50).toFixed(1)}x, p99 ${(base.p99 / hush.p99).toFixed(1)}x (> 1: hush is faster)`);
      report.push(`swarm: dockerd ${swarm!.dockerdVersion}, single-node swarm, 1-replica services of a local static image, StopGracePeriod 0, restart none; file = DATA_ROOT/containers/<id>/mounts/secrets/<secret id>`);
    } else report.push(`baseline skipped: ${baselineSkipped}`);
    report.push(`also measured (the other half of each cycle): ${other} p50 ${fmtMs(hushOther.p50)} ms, p99 ${fmtMs(hushOther.p99)} ms` +
      (baseOther ? `; swarm p50 ${fmtMs(baseOther.p50)} ms, p99 ${fmtMs(baseOther.p99)} ms` : ''));
    {
      const hc = cycles.get('hush')!;
      const val = (c: Cycle) => (kind === 'deliver' ? c.deliverMs : c.revokeMs);
      const callOf = (c: Cycle) => (kind === 'deliver' ? c.createCallMs : c.removeCallMs);
      const over = hc.filter((c) => val(c) > bench.targetP99Ms).length;
      const slowest = [...hc].sort((a, b) => val(b) - val(a)).slice(0, 5);
      report.push(`hush runs over ${bench.targetP99Ms} ms: ${over} of ${hc.length}; slowest: ${slowest.map((c) => `${fmtMs(val(c))} (call ${fmtMs(callOf(c))})`).join(', ')} ms`);
    }
    report.push(`target: hush ${kind} p99 <= ${bench.targetP99Ms} ms: ${hush.p99 <= bench.targetP99Ms ? 'met' : 'NOT met'} (${fmtMs(hush.p99)} ms)`);

    const figures: Figure[] = [
      { label: `${kind} p50`, value: hush.p50, unit: ' ms', baseline: base?.p50, better: 'lower' },
      { label: `${kind} p99`, value: hush.p99, unit: ' ms', baseline: base?.p99, better: 'lower' },
      { label: `${kind}: ${what.call} returns p50`, value: hush.callP50, unit: ' ms', baseline: base?.callP50, better: 'lower' },
    ];
    return { report, figures, baselineName: 'swarm', baselineSkipped };
  } finally {
    await probe?.close();
    await stopLoad?.();
    await Promise.allSettled([
      swarm?.stop().then(() => log('dockerd stopped, swarm data root removed')),
      (async () => {
        await agent?.stop();
        await manager?.stop();
      })(),
    ]);
  }
}
