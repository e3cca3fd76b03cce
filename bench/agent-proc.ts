// A real hush agent for benchmarks: `hush agent run` as its own process (built from this tree,
// dist/cli/main.js), joined to a bench manager (bench/manager-proc.ts) with a worker join token,
// serving its FUSE mount in a temporary directory. stop() (and the bench's cleanup registry, on
// failure or interruption) stops it with SIGTERM (the agent detaches its mount), SIGKILL after 5 s,
// detaches a mount left behind, and removes the directory.
//
// The agent is the FUSE server: nothing in the bench process that started it serves the mount, so
// the bench (or a worker thread of it, or a child) may read the mount with synchronous calls.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountsUnder, onCleanup } from './harness.js';
import type { RunningManager } from './manager-proc.js';
import { unary } from '../integration/helpers/grpc.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
/** A module that, preloaded into the agent (--import), runs a full GC on SIGUSR2 (see gc-on-signal.ts). */
const GC_PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'gc-on-signal.js');

export interface AgentOptions {
  /** Write a V8 CPU profile of the agent (node --cpu-prof) into this directory when it stops. */
  cpuProfDir?: string;
  /** Start node with --expose-gc and a SIGUSR2 handler that collects garbage (for RSS figures). */
  gcOnSignal?: boolean;
  hostname?: string;
  /** Extra environment for the agent process (e.g. HUSH_FS_ENGINE). */
  env?: Record<string, string>;
}

export interface RunningAgent {
  pid: number;
  /** The mount point (canonical path). */
  mount: string;
  stateDir: string;
  /** VmRSS and VmHWM of the agent process, in bytes (from /proc/PID/status). */
  rss(): { rss: number; hwm: number };
  /** With gcOnSignal: a full GC in the agent, resolved with process.memoryUsage() after it. */
  gc(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

export async function startAgent(manager: RunningManager, opts: AgentOptions = {}): Promise<RunningAgent> {
  const base = mkdtempSync('/tmp/hush-bench-agent-');
  const stateDir = join(base, 'state');
  const mount = join(base, 'mnt');
  let proc: ChildProcess | undefined;
  const tail: string[] = [];
  const gcWaiters: Array<(m: NodeJS.MemoryUsage) => void> = [];

  const stop = onCleanup(`hush agent in ${base}`, async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc!.once('exit', () => r()));
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    // A killed agent leaves its mount to auto_unmount; make sure nothing stays mounted here.
    for (const m of mountsUnder(base)) spawnSync('umount', ['-l', m]);
    rmSync(base, { recursive: true, force: true });
  });

  try {
    const control = manager.control();
    const { token } = await unary<{ token: string }>(control, 'GetJoinToken', { role: 'worker' });
    const nodeArgs: string[] = [];
    if (opts.cpuProfDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir);
    if (opts.gcOnSignal) nodeArgs.push('--expose-gc', '--import', GC_PRELOAD);
    proc = spawn(process.execPath, [...nodeArgs, CLI, 'agent', 'run', '--manager', `127.0.0.1:${manager.port}`, '--token', token,
      // --no-anchors: the figures in bench/README.md predate the per-task anchors, and a bench must never
      // touch the default /run/hush of a real agent on this machine.
      '--state-dir', stateDir, '--mount', mount, '--no-anchors', '--hostname', opts.hostname ?? `bench-${process.pid}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...opts.env, HUSH_LOG_LEVEL: 'info' },
    });
    const p = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent not ready after 30 s:\n${tail.join('\n')}`)), 30_000);
      let buf = '';
      // Keep draining stderr for the whole run (the agent logs synchronously: a full pipe would stall it).
      p.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          tail.push(line);
          if (tail.length > 50) tail.shift();
          try {
            const rec = JSON.parse(line) as { msg?: string; benchGc?: NodeJS.MemoryUsage };
            if (rec.benchGc) gcWaiters.shift()?.(rec.benchGc);
            else if (rec.msg === 'assignments complete') {
              clearTimeout(timer);
              resolve();
            }
          } catch { /* not JSON */ }
        }
      });
      p.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`agent exited (${signal ?? code}) before it was ready:\n${tail.join('\n')}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }

  const pid = proc.pid!;
  return {
    pid,
    mount,
    stateDir,
    rss() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
      return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    },
    gc() {
      if (!opts.gcOnSignal) return Promise.reject(new Error('agent started without gcOnSignal'));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('agent did not report its GC within 10 s')), 10_000);
        gcWaiters.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
        proc!.kill('SIGUSR2');
      });
    },
    stop,
  };
}
