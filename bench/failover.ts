// Bench "failover": what a kill -9 of a manager costs when the managers share an etcd store
// (3 members on loopback, 3 managers, bench/ha-proc.ts), with one real agent started with
// --manager A,B,C serving its FUSE mount. Rounds, each followed by a restart of the killed manager
// and a wait until all three are reachable again with one leader:
//
//   (a) leader kill -9 → first new placement: right after the kill, CreateService (one replica, one
//       secret) on a surviving manager (the agent's, when the agent is not on the leader); timed from
//       the kill to the task placed (ListTasks shows its node), ready (the agent reported it), and its
//       file readable on the agent's mount; and to the new leader's "leading the scheduler" log line
//   (b) kill -9 of the agent's manager → the agent's stream on another manager: from the kill to the
//       agent's "lost the manager" line (it noticed) and to its next "assignments complete" from
//       another manager (its stream is served again). Log times are the processes' own Date.now(),
//       the same clock as the bench's.
//
// The election runs with the default lease TTL (8 s, manager/manager.ts) and again with
// HUSH_ELECTION_TTL=5 for (a). Swarm is not measured: its raft elects after ElectionTick (10) x 1 s
// ticks by default, ~10 s (the anchor the report gives).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unary } from '../integration/helpers/grpc.js';
import { checkInterrupted, fmtMs, percentile, sleep, table, type BenchModule, type BenchOptions, type BenchResult, type Figure } from './harness.js';
import { startBenchHa, type BenchHa, type HaManager, type RunningAgent } from './ha-proc.js';
import type { ControlClient } from './manager-proc.js';

const DEFAULT_TTL_S = 8; // manager/manager.ts DEFAULT_ELECTION_TTL_SEC
const SHORT_TTL_S = 5;
const POLL_MS = 20;
const WAIT_MS = 60_000;

interface LeaderRound {
  ttl: number;
  killed: string;
  agentWasOnKilled: boolean;
  newLeader: string;
  electedMs: number;
  createCallMs: number;
  placedMs: number;
  readyMs: number;
  fileMs: number;
}

interface StreamRound {
  killed: string;
  killedWasLeader: boolean;
  noticedMs: number;
  retryInMs: number;
  servedMs: number;
  to: string;
}

type LogLine = Record<string, unknown>;

/** The first line with this msg among lines[since..] that `match` accepts, waiting for it up to timeoutMs. */
async function logLine(lines: () => LogLine[], msg: string, since: number, timeoutMs: number, match: (l: LogLine) => boolean = () => true): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines().slice(since).find((l) => l.msg === msg && match(l));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(msg)} log line within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

/** The manager the agent's stream is on now (`hush agent status`), once it is connected. */
async function agentManager(agent: RunningAgent, ha: BenchHa): Promise<HaManager> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const st = await agent.status().catch(() => undefined);
    const m = st?.connection.state === 'connected' ? ha.managers.find((x) => ha.addr(x) === st.connection.manager) : undefined;
    if (m && ha.running(m)) return m;
    if (Date.now() > deadline) throw new Error(`the agent is not connected to a running manager after ${WAIT_MS} ms (${JSON.stringify(st?.connection)})`);
    await sleep(100);
  }
}

/** Starts the killed manager again and waits until every manager is reachable with one leader. */
async function restore(ha: BenchHa, m: HaManager): Promise<void> {
  await m.start();
  await ha.leader(WAIT_MS);
}

async function leaderRound(ha: BenchHa, agent: RunningAgent, clients: Map<HaManager, ControlClient>, secret: string, ttl: number, i: number): Promise<LeaderRound> {
  const leader = await ha.leader(WAIT_MS);
  const on = await agentManager(agent, ha);
  const survivor = on !== leader ? on : ha.managers.find((m) => m !== leader)!;
  const control = clients.get(survivor)!;
  const service = `failover-${ttl}-${i}`;
  const file = join(agent.mount, `${service}.1`, 'pw');
  const t0 = Date.now();
  await leader.proc!.kill9();
  await unary(control, 'CreateService', { name: service, replicas: 1, constraints: [], secrets: [{ secretName: secret, target: 'pw', uid: 0, gid: 0, mode: 0o400 }] });
  const createCallMs = Date.now() - t0;
  let placedMs = NaN;
  let readyMs = NaN;
  let fileMs = NaN;
  const fileSeen = (async () => {
    while (Number.isNaN(fileMs) && Date.now() - t0 < WAIT_MS) {
      if ((await readFile(file).catch(() => undefined))?.length) fileMs = Date.now() - t0;
      else await sleep(POLL_MS);
    }
  })();
  while (Number.isNaN(readyMs)) {
    checkInterrupted();
    if (Date.now() - t0 > WAIT_MS) throw new Error(`${service}: task not ready ${WAIT_MS} ms after the leader's kill (placed: ${fmtMs(placedMs)} ms)`);
    const { tasks } = await unary<{ tasks: Array<{ nodeId: string; state: string }> }>(control, 'ListTasks', { service, node: '' });
    const now = Date.now() - t0;
    if (Number.isNaN(placedMs) && tasks.some((t) => t.nodeId)) placedMs = now;
    if (tasks.some((t) => t.state === 'ready')) readyMs = now;
    else await sleep(POLL_MS);
  }
  await fileSeen;
  if (Number.isNaN(fileMs)) throw new Error(`${service}: ${file} not readable ${WAIT_MS} ms after the leader's kill`);
  let newLeader = '?';
  let electedMs = NaN;
  for (const m of ha.managers.filter((x) => x !== leader)) {
    const line = m.proc!.logs.find((l) => l.msg === 'leading the scheduler' && Number(l.time) >= t0);
    if (line) {
      newLeader = ha.addr(m);
      electedMs = Number(line.time) - t0;
    }
  }
  await unary(control, 'RemoveService', { ref: service });
  await restore(ha, leader);
  return { ttl, killed: ha.addr(leader), agentWasOnKilled: on === leader, newLeader, electedMs, createCallMs, placedMs, readyMs, fileMs };
}

async function streamRound(ha: BenchHa, agent: RunningAgent): Promise<StreamRound> {
  const leader = await ha.leader(WAIT_MS);
  const on = await agentManager(agent, ha);
  const addr = ha.addr(on);
  const since = agent.logs.length;
  const t0 = Date.now();
  await on.proc!.kill9();
  const lost = await logLine(() => agent.logs, 'lost the manager: still serving the secrets held in memory', since, WAIT_MS, (l) => l.manager === addr);
  const served = await logLine(() => agent.logs, 'assignments complete', since, WAIT_MS, (l) => l.manager !== addr);
  await restore(ha, on);
  return {
    killed: addr, killedWasLeader: on === leader, noticedMs: Number(lost.time) - t0, retryInMs: Number(lost.retryInMs),
    servedMs: Number(served.time) - t0, to: String(served.manager),
  };
}

const p50 = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 50);
const max = (xs: number[]) => Math.max(...xs);
const pm = (xs: number[]) => `${fmtMs(p50(xs))} / ${fmtMs(max(xs))}`;

async function withCluster<T>(ttl: number | undefined, log: (l: string) => void, fn: (ha: BenchHa, agent: RunningAgent, clients: Map<HaManager, ControlClient>, secret: string) => Promise<T>): Promise<T> {
  const ha = await startBenchHa({ electionTtl: ttl });
  try {
    const agent = await ha.agent(`bench-failover-${process.pid}`);
    const clients = new Map(ha.managers.map((m) => [m, ha.control(m)]));
    const secret = 'failover';
    await unary(clients.get(ha.managers[0])!, 'CreateSecret', { name: secret, data: randomBytes(64), labels: {} });
    log(`3 etcd members, 3 managers (election TTL ${ttl ?? DEFAULT_TTL_S} s) and an agent with --manager A,B,C up`);
    return await fn(ha, agent, clients, secret);
  } finally {
    await ha.stop();
  }
}

async function run(opts: BenchOptions): Promise<BenchResult> {
  const { log } = opts;
  const rounds = opts.quick ? 2 : 5;
  const leaderRounds: LeaderRound[] = [];
  const streamRounds: StreamRound[] = [];
  const say = (r: LeaderRound) => log(`(a) TTL ${r.ttl} s: killed leader ${r.killed}${r.agentWasOnKilled ? ' (the agent\'s)' : ''}; ${r.newLeader} leads after ${fmtMs(r.electedMs)} ms; placed ${fmtMs(r.placedMs)}, ready ${fmtMs(r.readyMs)}, file ${fmtMs(r.fileMs)} ms`);

  await withCluster(undefined, log, async (ha, agent, clients, secret) => {
    for (let i = 0; i < rounds; i++) {
      checkInterrupted();
      const r = await leaderRound(ha, agent, clients, secret, DEFAULT_TTL_S, i);
      leaderRounds.push(r);
      say(r);
    }
    for (let i = 0; i < rounds; i++) {
      checkInterrupted();
      const r = await streamRound(ha, agent);
      streamRounds.push(r);
      log(`(b) killed the agent's manager ${r.killed}${r.killedWasLeader ? ' (the leader)' : ''}: noticed after ${fmtMs(r.noticedMs)} ms (retry in ${r.retryInMs} ms), served by ${r.to} after ${fmtMs(r.servedMs)} ms`);
    }
  });
  await withCluster(SHORT_TTL_S, log, async (ha, agent, clients, secret) => {
    for (let i = 0; i < rounds; i++) {
      checkInterrupted();
      const r = await leaderRound(ha, agent, clients, secret, SHORT_TTL_S, i);
      leaderRounds.push(r);
      say(r);
    }
  });

  const report: string[] = [];
  const rows: string[][] = [['figure', 'TTL s', 'rounds', 'p50 / max ms', 'per round ms']];
  const figures: Figure[] = [];
  for (const ttl of [DEFAULT_TTL_S, SHORT_TTL_S]) {
    const rs = leaderRounds.filter((r) => r.ttl === ttl);
    const line = (what: string, f: (r: LeaderRound) => number) => {
      const xs = rs.map(f);
      rows.push([what, String(ttl), String(rs.length), pm(xs), xs.map((x) => fmtMs(x)).join(' ')]);
      return xs;
    };
    line('(a) leader kill → new leader logs "leading the scheduler"', (r) => r.electedMs);
    line('(a) leader kill → CreateService on a survivor returns', (r) => r.createCallMs);
    line('(a) leader kill → task placed (ListTasks: node set)', (r) => r.placedMs);
    const ready = line('(a) leader kill → task ready (agent reported)', (r) => r.readyMs);
    line('(a) leader kill → task file readable on the agent', (r) => r.fileMs);
    figures.push({ label: `failover: leader kill → first placement ready p50, TTL ${ttl} s`, value: p50(ready), unit: ' ms', better: 'lower' });
    figures.push({ label: `failover: leader kill → first placement ready max, TTL ${ttl} s`, value: max(ready), unit: ' ms', better: 'lower' });
  }
  const noticed = streamRounds.map((r) => r.noticedMs);
  const served = streamRounds.map((r) => r.servedMs);
  rows.push(['(b) agent\'s manager kill → agent notices ("lost the manager")', String(DEFAULT_TTL_S), String(streamRounds.length), pm(noticed), noticed.map((x) => fmtMs(x)).join(' ')]);
  rows.push(['(b) agent\'s manager kill → stream on another manager (COMPLETE)', String(DEFAULT_TTL_S), String(streamRounds.length), pm(served), served.map((x) => fmtMs(x)).join(' ')]);
  figures.push({ label: 'failover: manager kill → agent served by another manager p50', value: p50(served), unit: ' ms', better: 'lower' });
  figures.push({ label: 'failover: manager kill → agent served by another manager max', value: max(served), unit: ' ms', better: 'lower' });
  report.push(...table(rows));
  report.push(`(a): ${leaderRounds.filter((r) => r.agentWasOnKilled).length} of ${leaderRounds.length} rounds killed the agent's own manager too (it then moved as in (b)); CreateService went to a surviving manager`);
  report.push(`(b): the killed manager was the leader in ${streamRounds.filter((r) => r.killedWasLeader).length} of ${streamRounds.length} rounds; the agent's first retry came after ${streamRounds.map((r) => r.retryInMs).join(', ')} ms (agent/backoff.ts)`);
  report.push('each round ends with the killed manager restarted and all three reachable with one leader (manager ls); times from the processes\' own log lines and the bench\'s polls (every 20 ms)');
  report.push(`anchor: Docker Swarm's raft elects a new leader after ~10 s by default (ElectionTick 10 x 1 s tick), not measured here`);
  return { report, figures };
}

export const failoverBench: BenchModule = {
  name: 'failover',
  description: 'managers on etcd: leader kill -9 → first new placement ready; manager kill -9 → its agent served by another manager',
  run,
};
