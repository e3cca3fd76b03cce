// Spawning real `hush agent run` processes (real FUSE mounts) for the integration tests.
//
// The test process never serves a mount, but it still reads mounts only with child processes
// (helpers/proc.ts, each with a timeout) or fs.promises: a dead or wedged FUSE daemon must never hang
// the test runner. Every agent started here is remembered; cleanUpAgents() (and, as a last resort,
// the exit handler) SIGKILLs leftovers and lazily unmounts (`umount -l`, a child process;
// helpers/mounts.ts) whatever they left at their mount points.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { AgentStatus } from '../../agent/status.js';
import { hushOk, HUSH_BIN, REPO_ROOT } from './manager.js';
import { followJsonLines, type LogLine } from './json-lines.js';
import { mountPointsUnder, readMountInfoSync } from '../../fs/mountinfo.js';
import { killReaders } from './fd-reader.js';
import { ensureUnmounted, unmountTree } from './mounts.js';
import { childPids } from './proc.js';

export type { AgentStatus };

export interface StartAgentOptions {
  /** The manager's TLS port(s) on 127.0.0.1. */
  managerPort: number | number[];
  /** Join token (first start only; omitted on a restart with the same state dir). */
  token?: string;
  stateDir: string;
  mount: string;
  /**
   * The agent's anchor directory (--anchors); default: --no-anchors. Never the product default
   * /run/hush: test agents must not touch (or detach) the anchors of a real agent on this machine.
   * The directory stays a mount point after the agent stops (by design): cleanUpAgents() and the exit
   * handler detach it and everything below it.
   */
  anchors?: string;
  hostname?: string;
  labels?: Record<string, string>;
  /**
   * A command that runs the agent (it must exec it, keeping the pid), e.g. `['setpriv', ...]` to start it
   * with fewer capabilities or other limits.
   */
  wrapper?: string[];
  /** Extra environment (over a copy of process.env without any HUSH_* variable). */
  env?: NodeJS.ProcessEnv;
  /** The log msg to wait for before resolving: default "assignments complete"; null: do not wait. */
  waitFor?: string | null;
  timeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningAgent {
  proc: ChildProcess;
  stateDir: string;
  mount: string;
  /** Every JSON log line so far (stderr). */
  logs: LogLine[];
  /** Raw stderr so far. */
  stderr(): string;
  /** Raw stdout so far. */
  stdout(): string;
  /**
   * Resolves with the first log line with this msg among logs[since..] (past or future); rejects on
   * timeout or when the agent exits first. `since` defaults to 0: use `logs.length` for the next one.
   */
  waitForLog(msg: string, timeoutMs?: number, since?: number): Promise<LogLine>;
  /** SIGTERM (SIGKILL after 5 s); then makes sure nothing is left mounted. Resolves with the exit. */
  stop(): Promise<ExitInfo>;
  /** SIGKILL; resolves once the process has exited (its auto_unmount helper then detaches the mount). */
  kill9(): Promise<ExitInfo>;
  /**
   * SIGKILL of the agent and its children at once (as systemd kills a unit's cgroup): its
   * auto_unmount helper (fusermount) dies too, and a dead mount stays at the mount point.
   * Resolves with the pids of the children killed, once the agent has exited.
   */
  killTree9(): Promise<number[]>;
  /** `hush agent status --state-dir ... --format json`, parsed. */
  status(): Promise<AgentStatus>;
  exited: Promise<ExitInfo>;
  /** Resolves with the exit once the agent exits by itself; rejects (with its stderr) after timeoutMs. */
  waitExit(timeoutMs?: number): Promise<ExitInfo>;
}

const agents = new Set<ChildProcess>();
const mountPoints = new Set<string>();
const anchorDirs = new Set<string>();

/** The environment of an agent: no HUSH_* variable from the outside. */
export function agentEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('HUSH_')) delete env[k];
  return { ...env, ...extra };
}

/** Spawns `hush agent run` and (by default) waits for its first COMPLETE ("assignments complete"). */
export async function startAgent(opts: StartAgentOptions): Promise<RunningAgent> {
  const ports = Array.isArray(opts.managerPort) ? opts.managerPort : [opts.managerPort];
  const args = [HUSH_BIN, 'agent', 'run', '--manager', ports.map((p) => `127.0.0.1:${p}`).join(','), '--state-dir', opts.stateDir, '--mount', opts.mount];
  if (opts.anchors) {
    args.push('--anchors', opts.anchors);
    anchorDirs.add(resolve(opts.anchors));
  } else {
    args.push('--no-anchors');
  }
  if (opts.token) args.push('--token', opts.token);
  if (opts.hostname) args.push('--hostname', opts.hostname);
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push('--label', `${k}=${v}`);
  const [cmd, ...cmdArgs] = [...(opts.wrapper ?? []), process.execPath, ...args];
  const proc = spawn(cmd, cmdArgs, { env: agentEnv(opts.env), cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  agents.add(proc);
  mountPoints.add(resolve(opts.mount));
  // A forgotten agent must not keep the test process alive: the exit handler kills it.
  proc.unref();
  (proc.stdout as unknown as { unref(): void }).unref();
  (proc.stderr as unknown as { unref(): void }).unref();

  const logs: LogLine[] = [];
  let raw = '';
  let out = '';
  const waiters: Array<{ msg: string; since: number; resolve: (l: LogLine) => void }> = [];
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => { out += chunk; });
  followJsonLines(proc.stderr!, (parsed) => {
    logs.push(parsed);
    const index = logs.length - 1;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].msg === parsed.msg && index >= waiters[i].since) waiters.splice(i, 1)[0].resolve(parsed);
    }
  }, (chunk) => { raw += chunk; });
  const exited = new Promise<ExitInfo>((r) => {
    proc.once('exit', (code, signal) => {
      agents.delete(proc);
      r({ code, signal });
    });
  });
  // The exit event may come before the last stderr bytes: 'close' waits for the pipes too.
  const closed = new Promise<void>((r) => proc.once('close', () => r()));

  const timeoutMs = opts.timeoutMs ?? 30_000;
  const waitForLog = (msg: string, ms = timeoutMs, since = 0): Promise<LogLine> => {
    const seen = logs.find((l, i) => i >= since && l.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        rej(new Error(`agent did not log ${JSON.stringify(msg)} within ${ms} ms; stderr:\n${raw}`));
      }, ms);
      const waiter = { msg, since, resolve: (l: LogLine) => { clearTimeout(timer); res(l); } };
      waiters.push(waiter);
      void closed.then(() => {
        const i = waiters.indexOf(waiter);
        if (i < 0) return;
        waiters.splice(i, 1);
        clearTimeout(timer);
        rej(new Error(`agent exited (code ${proc.exitCode}, signal ${proc.signalCode}) before logging ${JSON.stringify(msg)}; stderr:\n${raw}`));
      });
    });
  };

  const kill9 = async (): Promise<ExitInfo> => {
    proc.ref(); // keep the event loop alive until the exit is seen
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    const e = await exited;
    await closed;
    return e;
  };
  const killTree9 = async (): Promise<number[]> => {
    const children = proc.pid === undefined ? [] : await childPids(proc.pid);
    // The children first: the helper unmounts as soon as its parent dies.
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await kill9();
    return children;
  };
  const stop = async (): Promise<ExitInfo> => {
    proc.ref();
    if (proc.exitCode === null && proc.signalCode === null) {
      const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.kill('SIGTERM');
      await exited;
      clearTimeout(force);
    }
    const e = await exited;
    await closed;
    await ensureUnmounted(opts.mount);
    return e;
  };

  const waitExit = async (ms = 15_000): Promise<ExitInfo> => {
    let timer: NodeJS.Timeout | undefined;
    proc.ref();
    try {
      const e = await Promise.race([exited, new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`agent still running after ${ms} ms; stderr:\n${raw}`)), ms);
      })]);
      await closed;
      return e;
    } finally {
      clearTimeout(timer);
    }
  };

  const agent: RunningAgent = {
    proc, stateDir: opts.stateDir, mount: opts.mount, logs, stderr: () => raw, stdout: () => out, waitForLog, stop, kill9, killTree9, exited, waitExit,
    status: async () => JSON.parse((await hushOk(['agent', 'status', '--state-dir', opts.stateDir, '--format', 'json'], { env: agentEnv() })).stdout) as AgentStatus,
  };
  const waitFor = opts.waitFor === undefined ? 'assignments complete' : opts.waitFor;
  if (waitFor !== null) {
    try {
      await waitForLog(waitFor);
    } catch (e) {
      await kill9();
      await ensureUnmounted(opts.mount);
      throw e;
    }
  }
  return agent;
}

/** SIGKILLs every agent still running and lazily unmounts every mount point an agent used. */
export async function cleanUpAgents(): Promise<void> {
  killReaders(); // an open file keeps a detached FUSE connection (and its agent) alive
  const waits: Array<Promise<unknown>> = [];
  for (const p of agents) {
    if (p.exitCode === null && p.signalCode === null) {
      p.ref();
      waits.push(new Promise((r) => p.once('exit', r)));
      p.kill('SIGKILL');
    }
  }
  await Promise.all(waits);
  agents.clear();
  for (const mp of mountPoints) await ensureUnmounted(mp);
  mountPoints.clear();
  for (const dir of anchorDirs) await unmountTree(dir);
  anchorDirs.clear();
}

process.once('exit', () => {
  for (const p of agents) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (mountPoints.size === 0 && anchorDirs.size === 0) return;
  // Synchronous on purpose (an exit handler cannot wait): this process serves no mount.
  const mounts = readMountInfoSync();
  for (const mp of mountPoints) {
    if (mounts.some((m) => m.mountPoint === mp)) spawnSync('umount', ['-l', mp], { timeout: 5000, stdio: 'ignore' });
  }
  for (const dir of anchorDirs) {
    for (const p of mountPointsUnder(mounts, dir)) spawnSync('umount', ['-l', p], { timeout: 5000, stdio: 'ignore' });
  }
});
