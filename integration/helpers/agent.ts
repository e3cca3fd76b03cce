// Spawning real `hush agent run` processes (real FUSE mounts) for the integration tests, and
// looking at their mounts from CHILD processes only.
//
// The test process never serves a mount, but it still reads mounts only with child processes
// (`cat`, `stat`, `setpriv ...`, each with a timeout) or fs.promises: a dead or wedged FUSE daemon
// must never hang the test runner. Every agent started here is remembered; cleanUpAgents() (and,
// as a last resort, the exit handler) SIGKILLs leftovers and lazily unmounts (`umount -l`, a child
// process) whatever they left at their mount points.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { AgentStatus } from '../../agent/status.js';
import { hushOk, HUSH_BIN, REPO_ROOT } from './manager.js';
import { followJsonLines, type LogLine } from './json-lines.js';

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
function agentEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
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
  const proc = spawn(process.execPath, args, { env: agentEnv(opts.env), cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The pids whose parent is `ppid` (from /proc/PID/stat). */
export async function childPids(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses; it ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === ppid) out.push(Number(name));
  }
  return out;
}

// ---- mounts ----

const unescapeMountinfo = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export interface MountEntry {
  mountPoint: string;
  fstype: string;
  source: string;
}

function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    out.push({ mountPoint: unescapeMountinfo(fields[4]), fstype: fields[sep + 1], source: unescapeMountinfo(fields[sep + 2]) });
  }
  return out;
}

/** Every mount of this mount namespace. */
export async function allMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** The canonical path of a mount point that may be a dead mount (only its parent is resolved). */
export async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return join(await realpath(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/** The mounts at `path` (bottom to top). */
export async function mountsAt(path: string): Promise<MountEntry[]> {
  const mp = await canonical(path);
  return (await allMounts()).filter((m) => m.mountPoint === mp);
}

/** Resolves once nothing is mounted at `path` any more (false after timeoutMs). */
export async function waitUnmounted(path: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await mountsAt(path)).length === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}

/** Waits briefly for the agent's own unmount (or auto_unmount), then `umount -l` whatever is left. */
export async function ensureUnmounted(path: string): Promise<void> {
  if (await waitUnmounted(path, 2000)) return;
  for (let i = 0; i < 8 && (await mountsAt(path)).length > 0; i++) {
    await run('umount', ['-l', await canonical(path)], { timeoutMs: 5000 });
  }
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

/** `umount -l` of every mount at or below `dir` (deepest first), e.g. an agent's anchor directory. */
export async function unmountTree(dir: string): Promise<void> {
  const root = await canonical(dir);
  for (let i = 0; i < 8; i++) {
    const left = (await allMounts()).map((m) => m.mountPoint).filter((p) => p === root || p.startsWith(root + '/'));
    if (left.length === 0) return;
    left.sort((a, b) => b.length - a.length);
    for (const p of left) await run('umount', ['-l', p], { timeoutMs: 5000 });
  }
}

process.once('exit', () => {
  for (const p of agents) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (mountPoints.size === 0 && anchorDirs.size === 0) return;
  // Synchronous on purpose (an exit handler cannot wait): this process serves no mount.
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const all = parseMountinfo(text).map((m) => m.mountPoint);
  const mounted = new Set(all);
  for (const mp of mountPoints) {
    if (mounted.has(mp)) spawnSync('umount', ['-l', mp], { timeout: 5000, stdio: 'ignore' });
  }
  for (const dir of anchorDirs) {
    for (const p of all.filter((m) => m === dir || m.startsWith(dir + '/')).sort((a, b) => b.length - a.length)) {
      spawnSync('umount', ['-l', p], { timeout: 5000, stdio: 'ignore' });
    }
  }
});

// ---- child processes ----

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion (SIGKILL after timeoutMs, reported as timedOut). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (s: string) => { err += s; });
    p.stdin.on('error', () => {});
    const timer = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, opts.timeoutMs ?? 10_000);
    p.once('error', (e) => { clearTimeout(timer); rej(e); });
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** `sh -c SCRIPT` (optionally as another user via setpriv). */
export function sh(script: string, as?: { uid: number; gid: number }): Promise<RunResult> {
  if (!as) return run('sh', ['-c', script]);
  return run('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', 'sh', '-c', script]);
}

/** `cat FILE` in a child process (optionally as another user). */
export function catFile(path: string, as?: { uid: number; gid: number }): Promise<RunResult> {
  if (!as) return run('cat', [path]);
  return run('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', 'cat', path]);
}

export interface StatResult {
  uid: number;
  gid: number;
  mode: number;
  size: number;
  type: string;
}

/** `stat FILE` in a child process: the fields, or the error line. */
export async function statFile(path: string, as?: { uid: number; gid: number }): Promise<StatResult | { error: string }> {
  const args = ['-c', '%u %g %a %s %F', path];
  const r = as ? await run('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', 'stat', ...args]) : await run('stat', args);
  if (r.code !== 0) return { error: r.stderr.trim() || `exit ${r.code}` };
  const [uid, gid, mode, size, ...type] = r.stdout.toString().trim().split(' ');
  return { uid: Number(uid), gid: Number(gid), mode: parseInt(mode, 8), size: Number(size), type: type.join(' ') };
}

/** `ls -A DIR` in a child process: the names, or the error line. */
export async function listDir(path: string): Promise<string[] | { error: string }> {
  const r = await run('ls', ['-A', '-1', path]);
  if (r.code !== 0) return { error: r.stderr.trim() || `exit ${r.code}` };
  return r.stdout.toString().split('\n').filter((l) => l !== '').sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { waitUntil } from '../../common/testing/wait.js';

// ---- a reader holding an open descriptor (integration/fixtures/fd-reader.ts) ----

export interface FdStep {
  step: string;
  len?: number;
  sha256?: string;
  error?: string;
}

export interface FdReader {
  /** The result of the first open + read. */
  first: FdStep;
  /** Reads the same descriptor again, whole. */
  read(): Promise<FdStep>;
  /** Closes the descriptor and ends the process. */
  close(): Promise<void>;
}

const FD_READER = join(REPO_ROOT, 'dist', 'integration', 'fixtures', 'fd-reader.js');
const readers = new Set<ChildProcess>();

/** A child node process that opens `path`, reads it once, and reads it again on request. */
export async function openReader(path: string, timeoutMs = 10_000): Promise<FdReader> {
  const p = spawn(process.execPath, [FD_READER, path], { stdio: ['pipe', 'pipe', 'pipe'] });
  readers.add(p);
  p.once('exit', () => readers.delete(p));
  p.stdin.on('error', () => {});
  let buf = '';
  let err = '';
  const lines: FdStep[] = [];
  const waiting: Array<(s: FdStep) => void> = [];
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (s: string) => { err += s; });
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const step = JSON.parse(buf.slice(0, nl)) as FdStep;
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(step);
      else lines.push(step);
    }
  });
  const next = () => new Promise<FdStep>((res, rej) => {
    const queued = lines.shift();
    if (queued) return res(queued);
    const timer = setTimeout(() => rej(new Error(`fd-reader on ${path}: no answer within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    waiting.push((s) => { clearTimeout(timer); res(s); });
  });
  const first = await next();
  return {
    first,
    read: () => {
      p.stdin.write('read\n');
      return next();
    },
    close: async () => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.stdin.end('close\nexit\n');
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** SIGKILLs every fd-reader still running. */
export function killReaders(): void {
  for (const p of readers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  readers.clear();
}
process.once('exit', killReaders);
