// Entry point of `npm run bench`: runs each bench module in turn, prints each one's report and a
// final summary of the headline figures (hush vs its baseline, where there is one).
//
//   node dist/bench/run.js [--only NAME[,NAME...]] [--quick] [--no-baseline] [--cpu-prof DIR] [--list]
//
// A new bench is a module exporting a BenchModule (see harness.ts), added to BENCHES below.
// Progress goes to stderr; the report goes to stdout.
import { cpus, loadavg } from 'node:os';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createsBench } from './creates.js';
import { dispatchBench } from './dispatch.js';
import { revokeBench } from './revoke.js';
import { deliverBench } from './deliver.js';
import { readBench } from './read.js';
import { rssBench } from './rss.js';
import { anchorsBench } from './anchors.js';
import { storeCommitsBench } from './store-commits.js';
import { caIssueBench } from './ca-issue.js';
import { cliStartBench } from './cli-start.js';
import { haCreatesBench } from './ha-creates.js';
import { failoverBench } from './failover.js';
import { haLatencyBench } from './ha-latency.js';
import { cpuPressure, fmtRate, ratio, runAllCleanups, table, type BenchModule, type BenchResult } from './harness.js';

/**
 * Run in this order. revoke, deliver, read and rss run a real agent (FUSE mount) next to the manager;
 * anchors mounts in this process; store and ca time manager parts in this process; cli times CLI
 * processes against a manager. ha-creates, ha-latency and failover run managers on a 3-member etcd.
 */
const BENCHES: BenchModule[] = [createsBench, dispatchBench, revokeBench, deliverBench, readBench, rssBench, anchorsBench, storeCommitsBench, caIssueBench, cliStartBench,
  haCreatesBench, haLatencyBench, failoverBench];

const USAGE = `usage: node dist/bench/run.js [options]
  --only NAME[,NAME]  run only these benches (repeatable); --list shows the names
  --quick             fewer iterations (a smoke run; figures are noisier)
  --no-baseline       measure hush only (no dockerd/swarm)
  --cpu-prof DIR      write V8 CPU profiles of the processes under test into DIR
  --list              list the benches and exit
  -h, --help          this text`;

interface Args {
  only: string[];
  quick: boolean;
  baseline: boolean;
  cpuProfDir?: string;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: [], quick: false, baseline: true, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string) => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${flag} needs a value`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--no-baseline') args.baseline = false;
    else if (a === '--list') args.list = true;
    else if (a === '--only' || a.startsWith('--only=')) args.only.push(...value('--only').split(',').filter(Boolean));
    else if (a === '--cpu-prof' || a.startsWith('--cpu-prof=')) args.cpuProfDir = resolve(value('--cpu-prof'));
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  const known = new Set(BENCHES.map((b) => b.name));
  for (const name of args.only) if (!known.has(name)) fail(`no bench named ${name} (have: ${[...known].join(', ')})`);
  return args;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const b of BENCHES) console.log(`${b.name.padEnd(12)} ${b.description}`);
    return 0;
  }
  if (args.cpuProfDir) mkdirSync(args.cpuProfDir, { recursive: true });
  const selected = BENCHES.filter((b) => args.only.length === 0 || args.only.includes(b.name));
  const log = (line: string) => process.stderr.write(`  ${line}\n`);

  const c = cpus();
  console.log(`hush bench ${new Date().toISOString()}  node ${process.version}  ${c.length} x ${c[0]?.model.trim() ?? '?'}  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}${args.quick ? '  (quick)' : ''}`);
  const pressure = cpuPressure();
  if (pressure) console.log(`before: ${pressure}`);

  const done: Array<{ bench: BenchModule; result?: BenchResult; error?: string; seconds: number }> = [];
  for (const bench of selected) {
    process.stderr.write(`== ${bench.name}: ${bench.description}\n`);
    const t0 = Date.now();
    try {
      const result = await bench.run({ quick: args.quick, baseline: args.baseline, cpuProfDir: args.cpuProfDir, log });
      const seconds = (Date.now() - t0) / 1000;
      done.push({ bench, result, seconds });
      console.log(`\n== ${bench.name} (${seconds.toFixed(1)} s): ${bench.description}`);
      for (const line of result.report) console.log(line);
      const p = cpuPressure();
      if (p) console.log(`after: ${p}`);
    } catch (e) {
      const seconds = (Date.now() - t0) / 1000;
      const error = (e as Error).stack ?? String(e);
      done.push({ bench, error, seconds });
      console.log(`\n== ${bench.name} FAILED after ${seconds.toFixed(1)} s\n${error}`);
    } finally {
      await runAllCleanups(log); // anything a failed bench left registered
    }
  }

  console.log('\n== summary');
  const rows: string[][] = [['bench', 'figure', 'hush', 'baseline', 'hush vs baseline']];
  for (const d of done) {
    if (!d.result) {
      rows.push([d.bench.name, 'FAILED', '-', '-', '-']);
      continue;
    }
    for (const f of d.result.figures) {
      const base = f.baseline === undefined ? (d.result.baselineSkipped ? 'skipped' : '-') : `${fmtRate(f.baseline)}${f.unit} ${d.result.baselineName ?? ''}`.trim();
      rows.push([d.bench.name, f.label, `${fmtRate(f.value)}${f.unit}`, base, ratio(f)]);
    }
  }
  for (const line of table(rows)) console.log(line);
  for (const d of done) if (d.result?.baselineSkipped) console.log(`${d.bench.name}: baseline skipped: ${d.result.baselineSkipped}`);
  if (args.cpuProfDir) console.log(`CPU profiles in ${args.cpuProfDir}`);
  return done.some((d) => d.error) ? 1 : 0;
}

main().then((code) => process.exit(code), async (e) => {
  console.error(e);
  await runAllCleanups();
  process.exit(1);
});
