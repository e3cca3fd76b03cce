// Bench "rss" (P6): the agent's resident memory (VmRSS from /proc/PID/status), idle with nothing
// assigned and with 10,000 secrets assigned, each measured after a full GC settle; and how long
// the node takes to serve all 10,000 files after the last service is created.
//
// Real processes: a manager (bench/manager-proc.ts) and an agent (bench/agent-proc.ts) started
// with --expose-gc and a preloaded SIGUSR2 handler (bench/gc-on-signal.ts) that runs two full
// collections and reports process.memoryUsage(); "after a GC settle" = that, then 500 ms, then
// VmRSS. The load: 10,000 secrets of 64 random bytes (CreateSecret, 8 calls outstanding), then 40
// services of 250 references each (the limit is 256 per service), one replica, all on this node,
// created one after another through the Control API. A prober thread (bench/probe-worker.ts)
// lists the 40 task directories until each shows its 250 files; then every file is read once
// and compared with what was stored.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from './agent-proc.js';
import { unary } from '../integration/helpers/grpc.js';
import { fmtMs, measure, sleep, table, type BenchModule, type BenchOptions, type BenchResult, type Figure } from './harness.js';
import { startManager, type RunningManager } from './manager-proc.js';
import { clock, Probe } from './probe.js';

const SECRETS = 10_000;
const PER_SERVICE = 250;
const SIZE = 64;
const MB = 1024 * 1024;

interface MemSample {
  rss: number;
  hwm: number;
  mem: NodeJS.MemoryUsage;
}

async function settle(agent: RunningAgent): Promise<MemSample> {
  await sleep(1000);
  const mem = await agent.gc();
  await sleep(500);
  const { rss, hwm } = agent.rss();
  return { rss, hwm, mem };
}

async function run(opts: BenchOptions): Promise<BenchResult> {
  const { log } = opts;
  // --quick: fewer secrets, same shape.
  const secrets = opts.quick ? 2_000 : SECRETS;
  const services = Math.ceil(secrets / PER_SERVICE);
  let manager: RunningManager | undefined;
  let agent: RunningAgent | undefined;
  let probe: Probe | undefined;
  try {
    manager = await startManager({ cpuProfDir: opts.cpuProfDir });
    agent = await startAgent(manager, { gcOnSignal: true, cpuProfDir: opts.cpuProfDir });
    log(`hush manager (pid ${manager.pid}) and agent (pid ${agent.pid}, mount ${agent.mount}) up`);
    probe = new Probe();
    await sleep(1000);
    const idle = await settle(agent);
    log(`idle: VmRSS ${(idle.rss / MB).toFixed(1)} MB, heap used ${(idle.mem.heapUsed / MB).toFixed(1)} MB`);

    const control = manager.control();
    const names = Array.from({ length: secrets }, (_, i) => `rss-${i}`);
    const payloads = names.map(() => randomBytes(SIZE));
    const created = await measure(secrets, 8, (i) => unary(control, 'CreateSecret', { name: names[i], data: payloads[i], labels: {} }));
    log(`${secrets} secrets created in ${created.seconds.toFixed(1)} s`);

    const dirs = Array.from({ length: services }, (_, s) => join(agent!.mount, `rss-svc-${s}.1`));
    const tFirst = clock();
    let tLastIssued = 0;
    let tLastReturned = 0;
    let listed: ReturnType<Probe['start']> | undefined;
    for (let s = 0; s < services; s++) {
      const refs = names.slice(s * PER_SERVICE, (s + 1) * PER_SERVICE).map((n) => ({ secretName: n, target: n, uid: 0, gid: 0, mode: 0o400 }));
      if (s === services - 1) {
        // The prober runs from just before the last service is created.
        listed = probe.start({ op: 'listed', dirs, expect: PER_SERVICE, timeoutMs: 120_000 });
        await listed.polling;
        tLastIssued = clock();
      }
      await unary(control, 'CreateService', { name: `rss-svc-${s}`, replicas: 1, secrets: refs });
      if (s === services - 1) tLastReturned = clock();
    }
    const all = await listed!.done;
    const servedAfterLastMs = all.t - tLastReturned;
    const servedAfterFirstMs = all.t - tFirst;
    log(`all ${secrets} files listed ${fmtMs(servedAfterLastMs)} ms after the last CreateService returned (${fmtMs(servedAfterFirstMs)} ms after the first was issued)`);

    // Every file, read once, must hold what was stored.
    const paths = names.map((n, i) => join(dirs[Math.floor(i / PER_SERVICE)], n));
    const read = await probe.run({ op: 'read-all', paths, timeoutMs: 120_000 });
    const bad = read.hashes!.filter((h, i) => h !== createHash('sha256').update(payloads[i]).digest('hex')).length;
    if (bad) throw new Error(`${bad} of ${secrets} files did not hold their secret`);
    log(`all ${secrets} files read back and checked in ${((read.t - read.tBefore) / 1000).toFixed(1)} s`);

    const loaded = await settle(agent);
    const delta = loaded.rss - idle.rss;
    const row = (label: string, m: MemSample) => [
      label, (m.rss / MB).toFixed(1), (m.mem.heapUsed / MB).toFixed(1), (m.mem.heapTotal / MB).toFixed(1),
      (m.mem.external / MB).toFixed(1), (m.mem.arrayBuffers / MB).toFixed(2), (m.hwm / MB).toFixed(1),
    ];
    const report = table([
      ['agent', 'VmRSS MB', 'heap used MB', 'heap total MB', 'external MB', 'arrayBuffers MB', 'VmHWM MB'],
      row('idle (nothing assigned)', idle),
      row(`${secrets} secrets assigned`, loaded),
    ]);
    report.push(`VmRSS +${(delta / MB).toFixed(1)} MB for ${secrets} secrets of ${SIZE} B: ${Math.round(delta / secrets)} bytes per secret ` +
      `(heap used +${Math.round((loaded.mem.heapUsed - idle.mem.heapUsed) / secrets)} B, external +${Math.round((loaded.mem.external - idle.mem.external) / secrets)} B per secret)`);
    report.push(`each after 2 full GCs (node --expose-gc, SIGUSR2) and 500 ms; VmHWM = peak RSS since start`);
    report.push(`load: ${secrets} CreateSecret in ${created.seconds.toFixed(1)} s (8 outstanding), then ${services} services x ${PER_SERVICE} references, 1 replica each, created one after another`);
    report.push(`served: all ${secrets} files listed ${fmtMs(servedAfterLastMs)} ms after the last CreateService returned ` +
      `(${fmtMs(all.t - tLastIssued)} ms after it was issued; ${fmtMs(servedAfterFirstMs)} ms after the first service was issued); every file then read and checked`);
    const figures: Figure[] = [
      { label: 'agent VmRSS idle', value: idle.rss / MB, unit: ' MB', better: 'lower' },
      { label: `agent VmRSS, ${secrets} secrets`, value: loaded.rss / MB, unit: ' MB', better: 'lower' },
      { label: 'bytes per secret', value: delta / secrets, unit: ' B', better: 'lower' },
      { label: `all ${secrets} served after last create`, value: servedAfterLastMs, unit: ' ms', better: 'lower' },
    ];
    return { report, figures };
  } finally {
    await probe?.close();
    await agent?.stop();
    await manager?.stop();
  }
}

export const rssBench: BenchModule = {
  name: 'rss',
  description: 'agent VmRSS idle and with 10,000 secrets assigned; time until all 10,000 files are served',
  run,
};
