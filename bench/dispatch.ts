// Bench "dispatch": how fast the manager's Dispatcher tells nodes about a change, measured at test
// nodes (integration/helpers/node.ts: real node certificates, Assignments over mutual TLS, every
// message recorded as it arrives) in this process.
//
//   (a) revoke: a node is connected; repeatedly CreateService (one secret) on the Control unix
//       socket, wait for the node to hold task + secret, then RemoveService and time the REMOVE's
//       arrival at the node from the call returning and from issuing it (the manager sends the
//       REMOVE before it answers, so "from return" is <= 0). Also times the delivery
//       (CreateService returning → task and payload at the node) on the way.
//   (b) fan-out: N real, distinct nodes (1,000; --quick: 100; HUSH_BENCH_NODES=n overrides) join
//       (the manager issues N certificates with N node ids; the CSRs share one RSA key, as
//       generating 1,000 keys would take ~90 s of client CPU), each opens its own gRPC channel and
//       Assignments stream; a global service referencing secret S puts S on every node; then
//       UpdateSecret(S) and the per-node arrival of the new version, from the call issued (and
//       from the call returning), p50/p99/max over 5 rounds; plus when the manager wrote each
//       node's message (its audit log line).
//
// Everything runs on one machine: the manager process and this process (all N nodes' TLS and
// protobuf decoding on one event loop) share its cores, so the fan-out figures are an upper bound
// of what the manager alone needs.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { CAClient } from '../proto/gen/hush/v1/CA.js';
import { hushProto } from '../proto/load.js';
import { createCsr, generateNodeKey } from '../common/certs.js';
import { fetchPinnedRoot } from '../agent/join.js';
import { CHANNEL_OPTIONS, joinerCredentials, type NodeCredentials } from '../agent/channel.js';
import { unary } from '../integration/helpers/grpc.js';
import { startManager as startManagerProc, type ControlClient, type RunningManager } from './manager-proc.js';
import { TestNode } from '../integration/helpers/node.js';
import {

  checkInterrupted, fmtMs, onCleanup, percentile, sleep, table,
  type BenchModule, type BenchOptions, type BenchResult, type Figure,
} from './harness.js';

/**
 * The fan-out's nodes seal their streams as agents do (common/session-seal.ts); HUSH_BENCH_UNSEALED=1
 * opens them as an older agent (payloads in TLS only), to see what sealing costs. All 1,000 nodes open
 * their payloads in this one process, which a real cluster spreads over 1,000 machines.
 */
const SEALED = process.env.HUSH_BENCH_UNSEALED !== '1';

const REVOKE_TARGET_P99_MS = 25;

interface Manager extends Omit<RunningManager, 'control'> {
  workerToken: string;
  control: ControlClient;
}

/** A real manager (bench/manager-proc.ts) with the given heartbeat period, its worker token and a Control client. */
async function startManager(opts: BenchOptions, heartbeatPeriod: string): Promise<Manager> {
  const m = await startManagerProc({ cpuProfDir: opts.cpuProfDir, env: { HUSH_HEARTBEAT_PERIOD: heartbeatPeriod } });
  try {
    const control = m.control();
    const { token } = await unary<{ token: string }>(control, 'GetJoinToken', { role: 'worker' });
    return { ...m, workerToken: token, control };
  } catch (e) {
    await m.stop();
    throw e;
  }
}

function sorted(xs: number[]): Float64Array {
  return Float64Array.from(xs).sort();
}

interface Stats { p50: number; p99: number; max: number; min: number }

interface Round {
  /** Arrival at the node, from UpdateSecret issued. */
  node: Stats;
  /** The manager's 'secret delivered' audit line for the node (just before its write), from UpdateSecret issued. */
  manager: Stats;
  callMs: number;
}

function summary(xs: number[]): Stats {
  const s = sorted(xs);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1], min: s[0] };
}

/** Resolves with performance.now() when check() first holds on the node (checked on each message). */
function arrival(node: TestNode, what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  return node.until(what, check, timeoutMs).then(() => performance.now());
}

/** Runs fn(0..n-1) with at most `concurrency` calls outstanding. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      await fn(i);
    }
  }));
}

// ---------------------------------------------------------------------------------------------
// (a) revoke latency

interface RevokeResult {
  runs: number;
  fromReturn: number[];
  fromIssue: number[];
  deliver: number[];
  callMs: number[];
}

async function revoke(opts: BenchOptions): Promise<RevokeResult> {
  const { log } = opts;
  const runs = 200;
  const warm = opts.quick ? 10 : 30;
  const mgr = await startManager(opts, '5s');
  const node = await TestNode.join(mgr.addr, mgr.workerToken, 'revoke-node');
  const stopNode = onCleanup('revoke test node', () => node.close());
  try {
    node.open();
    node.startHeartbeats(1000);
    const secret = await unary<{ secret: { id: string } }>(mgr.control, 'CreateSecret', { name: 'revoke-s', data: randomBytes(64), labels: {} });
    const sid = secret.secret.id;
    const out: RevokeResult = { runs, fromReturn: [], fromIssue: [], deliver: [], callMs: [] };
    log(`revoke: manager at ${mgr.addr}, node ${node.id}; ${warm} warm-up + ${runs} runs`);
    for (let i = 0; i < warm + runs; i++) {
      checkInterrupted();
      const name = `rv-${i}`;
      const has = () => node.state.tasks.size === 1 && node.state.secrets.has(`${sid}@1`);
      const delivered = arrival(node, `${name} delivered`, has, 10_000);
      await unary(mgr.control, 'CreateService', { name, secrets: [{ secretName: 'revoke-s' }] });
      const created = performance.now();
      const tDeliver = await delivered;
      const removed = arrival(node, `${name} removed`, () => node.state.tasks.size === 0 && node.state.secrets.size === 0, 10_000);
      const issued = performance.now();
      await unary(mgr.control, 'RemoveService', { ref: name });
      const returned = performance.now();
      const tRemoved = await removed;
      if (i >= warm) {
        out.deliver.push(tDeliver - created);
        out.fromReturn.push(tRemoved - returned);
        out.fromIssue.push(tRemoved - issued);
        out.callMs.push(returned - issued);
      }
    }
    if (!node.sequenceIsContinuous()) throw new Error('revoke: the node saw a gap in sequence numbers');
    return out;
  } finally {
    await stopNode();
    await mgr.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// (b) fan-out of one secret update to N nodes

interface FanoutResult {
  nodes: number;
  joinS: number;
  connectS: number;
  readyS: number;
  placeS: number;
  placeMs: { p50: number; p99: number; max: number };
  warmup: Round;
  rounds: Round[];
  /** Per node, all rounds together: arrival from UpdateSecret issued. */
  all: Stats;
  /** Per node, all rounds together: the manager's audit line for the node, from UpdateSecret issued (ms resolution). */
  managerAll: Stats;
  /** Arrivals before the UpdateSecret answer reached the caller, of all. */
  beforeReturn: number;
  total: number;
  rssMb: number;
}

async function fanout(opts: BenchOptions, n: number, rounds: number): Promise<FanoutResult> {
  const { log } = opts;
  // Nodes are seen when they open their stream; a long period keeps them ready without heartbeats
  // (1,000 nodes heartbeating would be load of its own, which is not what this measures).
  const mgr = await startManager(opts, '120s');
  const nodes: TestNode[] = [];
  const stopNodes = onCleanup(`${n} test nodes`, () => { for (const x of nodes) x.close(); });
  try {
    // Join: one key and CSR for all, one certificate (and node id) each.
    const t0 = performance.now();
    const caPem = await fetchPinnedRoot(mgr.addr, mgr.workerToken);
    const keyPem = generateNodeKey();
    const csrPem = createCsr(keyPem);
    const ca = new (hushProto().CA as unknown as new (a: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => CAClient)(mgr.addr, joinerCredentials(caPem), CHANNEL_OPTIONS);
    const creds: NodeCredentials[] = new Array(n);
    try {
      await pool(n, 8, async (i) => {
        const res = await unary<{ nodeId: string; certificatePem: string; role: string }>(ca as unknown as grpc.Client, 'IssueNodeCertificate', {
          csrPem, token: mgr.workerToken, hostname: `fan-${String(i).padStart(4, '0')}`, labels: {},
        }, 30_000);
        creds[i] = { nodeId: res.nodeId, role: res.role as NodeCredentials['role'], keyPem, certPem: res.certificatePem, caPem };
      });
    } finally {
      ca.close();
    }
    const joinS = (performance.now() - t0) / 1000;
    if (new Set(creds.map((c) => c.nodeId)).size !== n) throw new Error('fan-out: node ids are not distinct');
    log(`fan-out: ${n} nodes joined in ${joinS.toFixed(1)} s (${((joinS * 1000) / n).toFixed(1)} ms each, 8 at a time)`);
    checkInterrupted();

    // Connect: one channel (TLS connection) and one Assignments stream per node.
    const t1 = performance.now();
    for (const c of creds) nodes.push(new TestNode(mgr.addr, c));
    await pool(n, 50, async (i) => {
      const node = nodes[i];
      node.open({ seal: SEALED });
      await node.until('the first COMPLETE', () => node.messages.length > 0 || node.streamStatus !== undefined, 60_000);
      if (node.streamStatus) throw new Error(`node ${i}: stream ended: ${node.streamStatus.details}`);
    });
    const connectS = (performance.now() - t1) / 1000;
    log(`fan-out: ${n} streams open in ${connectS.toFixed(1)} s (50 connecting at a time)`);
    const t2 = performance.now();
    for (;;) {
      checkInterrupted();
      const { nodes: listed } = await unary<{ nodes: Array<{ state: string }> }>(mgr.control, 'ListNodes', {}, 30_000);
      if (listed.filter((x) => x.state === 'ready').length === n) break;
      if (performance.now() - t2 > 60_000) throw new Error('fan-out: not every node became ready within 60 s');
      await sleep(100);
    }
    const readyS = (performance.now() - t2) / 1000;

    // A global service referencing S: one task per node, S@1 on every node.
    const sData = randomBytes(64);
    const s = await unary<{ secret: { id: string } }>(mgr.control, 'CreateSecret', { name: 'fan-s', data: sData, labels: {} });
    const sid = s.secret.id;
    const placed = nodes.map((x) => arrival(x, 'S@1', () => x.state.tasks.size === 1 && x.state.secrets.has(`${sid}@1`), 120_000));
    await unary(mgr.control, 'CreateService', { name: 'fan', mode: 'global', secrets: [{ secretName: 'fan-s' }] }, 30_000);
    const t3 = performance.now();
    const placedAt = await Promise.all(placed);
    const placeS = (performance.now() - t3) / 1000;
    const placeMs = summary(placedAt.map((t) => t - t3));
    log(`fan-out: global service on all ${n} nodes in ${placeS.toFixed(2)} s (p50 ${fmtMs(placeMs.p50)} ms, p99 ${fmtMs(placeMs.p99)} ms)`);

    // UpdateSecret(S), `rounds` times; per-node arrival of the new version.
    const out: Round[] = [];
    const all: number[] = [];
    const managerAll: number[] = [];
    let beforeReturn = 0;
    // Round 0 is a warm-up (the manager's code paths for an update are not JIT-compiled yet): reported, not counted.
    let warmup: Round | undefined;
    for (let r = -1; r < rounds; r++) {
      checkInterrupted();
      await sleep(500);
      const version = r + 3;
      const data = randomBytes(64);
      const got = nodes.map((x) => arrival(x, `S@${version}`, () => x.state.secrets.get(`${sid}@${version}`)?.equals(data) === true, 120_000));
      const issuedWall = Date.now();
      const issued = performance.now();
      await unary(mgr.control, 'UpdateSecret', { ref: 'fan-s', data }, 30_000);
      const returned = performance.now();
      const at = await Promise.all(got);
      const lat = at.map((t) => t - issued);
      if (r >= 0) {
        beforeReturn += at.filter((t) => t < returned).length;
        all.push(...lat);
      }
      // When the manager wrote each node's message: its audit line, logged just before the write.
      await sleep(200);
      const sent = mgr.logLines()
        .filter((l) => l.audit === 'secret-delivered' && l.secretId === sid && l.version === version)
        .map((l) => Number(l.time) - issuedWall);
      if (sent.length !== n) log(`fan-out: found ${sent.length} 'secret-delivered' audit lines for version ${version}, expected ${n}: the manager column is partial`);
      const round: Round = { node: summary(lat), manager: summary(sent), callMs: returned - issued };
      if (r < 0) warmup = round;
      else {
        managerAll.push(...sent);
        out.push(round);
      }
      log(`fan-out: update ${r < 0 ? 'warm-up' : `${r + 1}/${rounds}`}: at the nodes p50 ${fmtMs(round.node.p50)} ms, p99 ${fmtMs(round.node.p99)} ms, max ${fmtMs(round.node.max)} ms from UpdateSecret issued; manager wrote the last at ${round.manager.max} ms; the call took ${fmtMs(round.callMs)} ms`);
    }
    // Every node ends with exactly the latest version, and an unbroken sequence.
    const last = `${sid}@${rounds + 2}`;
    const wrong = nodes.filter((x) => x.state.secrets.size !== 1 || !x.state.secrets.has(last) || !x.sequenceIsContinuous());
    if (wrong.length) throw new Error(`fan-out: ${wrong.length} nodes do not hold exactly ${last} with continuous sequence numbers`);
    return {
      nodes: n, joinS, connectS, readyS, placeS, placeMs, warmup: warmup!, rounds: out, all: summary(all), managerAll: summary(managerAll),
      beforeReturn, total: all.length,
      rssMb: process.memoryUsage().rss / 1024 / 1024,
    };
  } finally {
    await stopNodes();
    await mgr.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function run(opts: BenchOptions): Promise<BenchResult> {
  const n = Number(process.env.HUSH_BENCH_NODES) || (opts.quick ? 100 : 1000);
  const rounds = 5;
  const rv = await revoke(opts);
  const ret = summary(rv.fromReturn);
  const iss = summary(rv.fromIssue);
  const del = summary(rv.deliver);
  const call = summary(rv.callMs);
  opts.log(`revoke: p50 ${fmtMs(iss.p50)} ms, p99 ${fmtMs(iss.p99)} ms from RemoveService issued`);
  const fo = await fanout(opts, n, rounds);

  const report: string[] = [];
  report.push(`(a) revoke: 1 node, ${rv.runs} runs (CreateService, wait for delivery, RemoveService, wait for the REMOVE)`);
  report.push(...table([
    ['measure', 'p50 ms', 'p99 ms', 'max ms', 'min ms'],
    ['REMOVE at node, from RemoveService returning', fmtMs(ret.p50), fmtMs(ret.p99), fmtMs(ret.max), fmtMs(ret.min)],
    ['REMOVE at node, from RemoveService issued', fmtMs(iss.p50), fmtMs(iss.p99), fmtMs(iss.max), fmtMs(iss.min)],
    ['RemoveService call (issue to return)', fmtMs(call.p50), fmtMs(call.p99), fmtMs(call.max), fmtMs(call.min)],
    ['task + payload at node, from CreateService returning', fmtMs(del.p50), fmtMs(del.p99), fmtMs(del.max), fmtMs(del.min)],
  ]));
  report.push(`negative: the REMOVE reached the node before the RemoveService answer reached the caller (${rv.fromReturn.filter((x) => x < 0).length}/${rv.runs} runs)`);
  report.push(`target (end to end with the agent, later): revoke p99 <= ${REVOKE_TARGET_P99_MS} ms; here, to the test node, from the call being issued: p99 ${fmtMs(iss.p99)} ms (${iss.p99 <= REVOKE_TARGET_P99_MS ? 'within' : 'OVER'})`);
  report.push('');
  report.push(`(b) fan-out: ${fo.nodes} distinct nodes (one certificate each), one TLS channel + Assignments stream each, in this process, ${SEALED ? 'sealed (as agents)' : 'unsealed (HUSH_BENCH_UNSEALED=1: as older agents)'}`);
  report.push(`join ${fo.joinS.toFixed(1)} s (${((fo.joinS * 1000) / fo.nodes).toFixed(1)} ms/node, 8 at a time, shared key); connect ${fo.connectS.toFixed(1)} s (${((fo.connectS * 1000) / fo.nodes).toFixed(1)} ms/node, 50 at a time); all ready after ${fo.readyS.toFixed(1)} s more`);
  report.push(`global service with S: task + S@1 on all ${fo.nodes} nodes ${fo.placeS.toFixed(2)} s after CreateService returned (p50 ${fmtMs(fo.placeMs.p50)} ms, p99 ${fmtMs(fo.placeMs.p99)} ms)`);
  report.push(...table([
    ['UpdateSecret(S), from the call issued', 'p50 ms', 'p99 ms', 'max ms', 'min ms', 'manager p50', 'manager max', 'call ms'],
    ...[fo.warmup, ...fo.rounds].map((r, i) => [i === 0 ? 'warm-up (not counted)' : `round ${i}`, fmtMs(r.node.p50), fmtMs(r.node.p99), fmtMs(r.node.max), fmtMs(r.node.min), fmtMs(r.manager.p50), fmtMs(r.manager.max), fmtMs(r.callMs)]),
    [`all ${fo.rounds.length} rounds (${fo.total} arrivals)`, fmtMs(fo.all.p50), fmtMs(fo.all.p99), fmtMs(fo.all.max), fmtMs(fo.all.min), fmtMs(fo.managerAll.p50), fmtMs(fo.managerAll.max), ''],
  ]));
  report.push('p50..min: the new version at the node (its message decoded in this process); manager: when the manager wrote');
  report.push('that node\'s message (its audit log line, ms resolution); call: UpdateSecret issued to its answer here.');
  report.push(`${fo.beforeReturn} of ${fo.total} arrivals came before the UpdateSecret answer: the manager sends every node's message before it answers.`);
  report.push(`bench process RSS with ${fo.nodes} nodes connected: ${fo.rssMb.toFixed(0)} MB`);

  const figures: Figure[] = [
    { label: 'revoke p50 (from issue)', value: iss.p50, unit: ' ms', better: 'lower' },
    { label: 'revoke p99 (from issue)', value: iss.p99, unit: ' ms', better: 'lower' },
    { label: 'revoke p99 (from return)', value: ret.p99, unit: ' ms', better: 'lower' },
    { label: `fan-out ${fo.nodes} p50 (from issue)`, value: fo.all.p50, unit: ' ms', better: 'lower' },
    { label: `fan-out ${fo.nodes} p99 (from issue)`, value: fo.all.p99, unit: ' ms', better: 'lower' },
    { label: `fan-out ${fo.nodes} max (from issue)`, value: fo.all.max, unit: ' ms', better: 'lower' },
    { label: `connect ${fo.nodes} streams`, value: fo.connectS, unit: ' s', better: 'lower' },
  ];
  return { report, figures };
}

export const dispatchBench: BenchModule = {
  name: 'dispatch',
  description: 'Dispatcher: revoke latency (RemoveService → REMOVE at a node) and one secret update fanned out to 1,000 nodes',
  run,
};
