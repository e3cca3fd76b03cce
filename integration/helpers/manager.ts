// Spawning real `hush` processes for the integration tests: `manager init`, `manager run`
// and one-shot CLI commands, each against its own temporary state directory.
//
// Every manager process started here is remembered; killAllManagers() (also run on process
// exit) kills whatever a failing test left behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../manager/store/open.js';
import { storeConfigFor } from '../../manager/store/state-config.js';
import { openKeyring, parseUnlockKey } from '../../manager/crypto/keyring.js';
import { Cluster } from '../../manager/cluster/cluster.js';
import { readManagerId } from '../../manager/cluster/manager-id.js';
import { followJsonLines, type LogLine } from './json-lines.js';

// This file runs as dist/integration/helpers/manager.js.
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const HUSH_BIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface HushResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr as raw bytes (for checks on binary values). */
  raw: Buffer;
}

export interface HushOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (stdin is always a closed pipe, never a TTY). */
  input?: string | Buffer;
  timeoutMs?: number;
}

/** The environment for a CLI or daemon bound to stateDir (no HUSH_HOST from the outside). */
export function envFor(stateDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HUSH_STATE_DIR: stateDir };
  delete env.HUSH_HOST;
  delete env.HUSH_LOG_LEVEL;
  return env;
}

/** Runs `node dist/cli/main.js ...args` to completion. */
export function hush(args: string[], opts: HushOptions = {}): Promise<HushResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, [HUSH_BIN, ...args], {
      env: opts.env ?? process.env,
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (b: Buffer) => out.push(b));
    proc.stderr.on('data', (b: Buffer) => err.push(b));
    proc.stdin.on('error', () => {}); // the CLI may exit before reading all of stdin
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`hush ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      resolvePromise({ code, signal, stdout: stdout.toString(), stderr: stderr.toString(), raw: Buffer.concat([stdout, stderr]) });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

/** Like hush(), but fails (with the command's stderr) unless it exits 0. */
export async function hushOk(args: string[], opts: HushOptions = {}): Promise<HushResult> {
  const r = await hush(args, opts);
  if (r.code !== 0) throw new Error(`hush ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

export interface InitializedManager {
  /** Temporary parent directory; removing it removes everything of this manager. */
  root: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  clusterId: string;
  workerToken: string;
  managerToken: string;
  unlockKey?: string;
  /** Removes the temporary directory (kill the manager first). */
  remove(): void;
}

// Managers and temp dirs not yet cleaned up by their test.
const running = new Set<ChildProcess>();
const tempRoots = new Set<string>();

const UNLOCK_KEY_RE = /HUSHKEY-1-[A-Za-z0-9_-]{43}/;
const JOIN_TOKEN_RE = /HUSH-1-[0-9a-z]{50}-[0-9a-z]{25}/;

/** `hush manager init --listen 127.0.0.1:0 [--autolock]` in a fresh temporary state dir. */
export async function initManager(opts: { autolock?: boolean; certExpiry?: string } = {}): Promise<InitializedManager> {
  const root = mkdtempSync(join(tmpdir(), 'hush-it-'));
  const stateDir = join(root, 'm');
  tempRoots.add(root);
  const remove = () => {
    rmSync(root, { recursive: true, force: true });
    tempRoots.delete(root);
  };
  try {
    const env = envFor(stateDir);
    const args = ['manager', 'init', '--listen', '127.0.0.1:0'];
    if (opts.autolock) args.push('--autolock');
    if (opts.certExpiry) args.push('--cert-expiry', opts.certExpiry);
    const r = await hushOk(args, { env });
    const clusterId = /^Cluster ([0-9a-z]{25}) initialised/m.exec(r.stdout)?.[1];
    const workerToken = JOIN_TOKEN_RE.exec(r.stdout)?.[0];
    const unlockKey = UNLOCK_KEY_RE.exec(r.stdout)?.[0];
    if (!clusterId || !workerToken) throw new Error(`unexpected output of manager init:\n${r.stdout}`);
    if (opts.autolock && !unlockKey) throw new Error(`manager init --autolock printed no unlock key:\n${r.stdout}`);
    if (!opts.autolock && unlockKey) throw new Error('manager init without --autolock printed an unlock key');
    // init prints only the worker token; read the manager token from the (not yet served) store.
    const store = await openStore(storeConfigFor(stateDir));
    let managerToken: string;
    try {
      const { dek } = openKeyring(stateDir, unlockKey ? parseUnlockKey(unlockKey) : undefined);
      const cluster = await Cluster.load(store, dek, readManagerId(stateDir));
      if (cluster.joinToken('worker') !== workerToken) throw new Error('the printed worker token is not the stored one');
      managerToken = cluster.joinToken('manager');
    } finally {
      await store.close();
    }
    return { root, stateDir, env, clusterId, workerToken, managerToken, unlockKey, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

export type { LogLine };

export interface RunningManager {
  proc: ChildProcess;
  /** The TLS port, once unlocked ("manager ready"); undefined while locked. */
  port?: number;
  locked: boolean;
  /** Every JSON log line so far (stderr). */
  logs: LogLine[];
  /** Raw stderr so far. */
  stderr(): string;
  /** Resolves with the first log line (past or future) with this msg. */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL; resolves once the process has exited. */
  kill9(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** SIGKILLs every manager still running and removes every temp dir (safety net for failed tests). */
export function cleanUpEverything(): void {
  for (const p of running) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
  running.clear();
  for (const root of tempRoots) rmSync(root, { recursive: true, force: true });
  tempRoots.clear();
}
process.once('exit', cleanUpEverything);

/**
 * Spawns `hush manager run --listen 127.0.0.1:0` (or the given listen address) and waits until it
 * serves: "manager ready" when unlocked, "control socket ready" (locked: true) when locked.
 */
export async function startManager(stateDir: string, opts: {
  listen?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number;
  /** A command that execs the rest (same pid), e.g. ['prlimit', '--nofile=400:400', '--']. */
  wrapper?: string[];
} = {}): Promise<RunningManager> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const argv = [process.execPath, HUSH_BIN, 'manager', 'run', '--listen', opts.listen ?? '127.0.0.1:0'];
  const [cmd, ...args] = [...(opts.wrapper ?? []), ...argv];
  const proc = spawn(cmd, args, {
    env: opts.env ?? envFor(stateDir),
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  // A manager a failed test forgot must not keep the test process alive: the exit handler kills it.
  proc.unref();
  (proc.stdout as unknown as { unref(): void }).unref();
  (proc.stderr as unknown as { unref(): void }).unref();
  const logs: LogLine[] = [];
  let raw = '';
  const waiters: Array<{ msg: string; resolve: (l: LogLine) => void }> = [];
  proc.stdout!.resume();
  followJsonLines(proc.stderr!, (parsed) => {
    logs.push(parsed);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].msg === parsed.msg) waiters.splice(i, 1)[0].resolve(parsed);
    }
  }, (chunk) => { raw += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      r({ code, signal });
    });
  });

  const waitForLog = (msg: string, ms = timeoutMs): Promise<LogLine> => {
    const seen = logs.find((l) => l.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        rej(new Error(`manager did not log ${JSON.stringify(msg)} within ${ms} ms; stderr:\n${raw}`));
      }, ms);
      const waiter = { msg, resolve: (l: LogLine) => { clearTimeout(timer); res(l); } };
      waiters.push(waiter);
      void exited.then(({ code, signal }) => {
        const i = waiters.indexOf(waiter);
        if (i < 0) return;
        waiters.splice(i, 1);
        clearTimeout(timer);
        rej(new Error(`manager exited (code ${code}, signal ${signal}) before logging ${JSON.stringify(msg)}; stderr:\n${raw}`));
      });
    });
  };

  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.ref(); // keep the event loop alive until the exit is seen
    proc.kill(signal);
    await exited;
  };
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.ref();
    proc.kill('SIGTERM');
    await exited;
    clearTimeout(force);
  };

  const m: RunningManager = {
    proc, locked: true, logs, stderr: () => raw, waitForLog, stop, kill9: () => kill('SIGKILL'), exited,
    port: undefined,
  };
  try {
    const ready = await waitForLog('control socket ready');
    m.locked = ready.locked === true;
    if (!m.locked) {
      const served = await waitForLog('manager ready');
      m.port = Number(served.port);
    }
  } catch (e) {
    await kill('SIGKILL');
    throw e;
  }
  return m;
}

/** Waits for "manager ready" (after an unlock) and records the TLS port. */
export async function waitUntilReady(m: RunningManager, timeoutMs = 15_000): Promise<number> {
  const line = await m.waitForLog('manager ready', timeoutMs);
  m.port = Number(line.port);
  m.locked = false;
  return m.port;
}

/** A TCP port that was free a moment ago (for a fixed --listen address). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Random text that cannot occur by chance in a state file or output. */
export function distinctive(prefix = 'hush-test-'): string {
  return prefix + TEST_RUN_MARK + randomBytes(16).toString('hex');
}

/**
 * Every distinctive value of one test run carries this mark, so that the suite's last
 * test (leak-scan) can look for any of them on disk without knowing the values.
 */
export const TEST_RUN_MARK = process.env.HUSH_TEST_RUN ? `run${process.env.HUSH_TEST_RUN}-` : '';

/** One line of stderr that starts with "Error:" — the CLI's error convention. */
export function oneErrorLine(r: HushResult): string {
  const lines = r.stderr.split('\n');
  if (lines.length !== 2 || lines[1] !== '' || !lines[0].startsWith('Error: ')) {
    throw new Error(`expected exactly one "Error: ..." line on stderr, got ${JSON.stringify(r.stderr)}`);
  }
  return lines[0];
}

/** A CLI call that must be refused: what it tests, its arguments (and stdin), the one error line it must give. */
export interface RefusedCall {
  what: string;
  args: string[];
  input?: string | Buffer;
  error: RegExp;
}

/**
 * Runs the calls (`concurrency` at a time: enough to be quick on two cores without starving the
 * manager) and asserts each exits non-zero with nothing on stdout and exactly one "Error:" line
 * on stderr that matches its pattern.
 */
export async function assertRefused(calls: RefusedCall[], env: NodeJS.ProcessEnv, concurrency: number): Promise<void> {
  const results: HushResult[] = [];
  for (let i = 0; i < calls.length; i += concurrency) {
    results.push(...await Promise.all(calls.slice(i, i + concurrency).map((c) => hush(c.args, { env, input: c.input }))));
  }
  calls.forEach((c, i) => {
    const r = results[i];
    assert.notEqual(r.code, 0, `${c.what}: exit code`);
    assert.equal(r.stdout, '', `${c.what}: stdout`);
    let line: string;
    try {
      line = oneErrorLine(r);
    } catch (e) {
      assert.fail(`${c.what}: ${(e as Error).message}`);
    }
    assert.match(line, c.error, c.what);
  });
}

/** Runs a test body against a fresh initialised, running manager; always stops and removes it. */
export async function withManager(fn: (m: InitializedManager, run: RunningManager) => Promise<void>): Promise<void> {
  const m = await initManager();
  let run: RunningManager | undefined;
  try {
    run = await startManager(m.stateDir);
    await fn(m, run);
  } finally {
    await run?.stop();
    m.remove();
  }
}
