// A real hush manager for benchmarks: `hush manager init` + `hush manager run` in a temporary
// state directory, as separate processes built from this tree (dist/cli/main.js). stop() (and the
// bench's cleanup registry, on failure or interruption) kills it and removes the directory.
//
// The manager logs synchronously (pino) and writes an audit line per secret version sent to or
// revoked from each node; on a pipe that a busy bench process drains late those writes would block
// it, so its stderr goes to a file (DIR/manager.log), as it would to a journal.
import * as grpc from '@grpc/grpc-js';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hushProto } from '../proto/load.js';
import { onCleanup, sleep } from './harness.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

export interface ManagerOptions {
  /** Write a V8 CPU profile of the manager (node --cpu-prof) into this directory when it stops. */
  cpuProfDir?: string;
  /** Extra environment for the manager process. */
  env?: Record<string, string>;
}

export interface RunningManager {
  stateDir: string;
  socketPath: string;
  pid: number;
  /** The TLS port nodes connect to (127.0.0.1), from the "manager ready" log line. */
  port: number;
  /** `127.0.0.1:port`. */
  addr: string;
  /** The manager's JSON log lines so far. */
  logLines(): Array<Record<string, unknown>>;
  /** A new Control client. Clients with distinct `channelKey`s get separate channels (HTTP/2 connections). */
  control(channelKey?: string): ControlClient;
  /** SIGTERM (SIGKILL after 5 s), then removes the state directory. Idempotent. */
  stop(): Promise<void>;
}

export type ControlClient = InstanceType<ReturnType<typeof hushProto>['Control']>;

export async function startManager(opts: ManagerOptions = {}): Promise<RunningManager> {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build first (npm run build)`);
  const stateDir = mkdtempSync(join(tmpdir(), 'hush-bench-'));
  let proc: ChildProcess | undefined;
  const clients: ControlClient[] = [];
  const logFile = join(stateDir, 'manager.log');
  let port = 0;

  const stop = onCleanup(`hush manager in ${stateDir}`, async () => {
    for (const c of clients) c.close();
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc!.once('exit', () => r()));
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(stateDir, { recursive: true, force: true });
  });
  const logLines = () => readFileSync(logFile, 'utf8').split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

  try {
    await promisify(execFile)(process.execPath, [CLI, 'manager', 'init', '--state-dir', stateDir, '--listen', '127.0.0.1:0']);

    const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
    const fd = openSync(logFile, 'w');
    try {
      proc = spawn(process.execPath, [...nodeArgs, CLI, 'manager', 'run', '--state-dir', stateDir, '--listen', '127.0.0.1:0'], {
        stdio: ['ignore', 'ignore', fd],
        env: { ...process.env, ...opts.env },
      });
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + 20_000;
    while (!port) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`manager exited before it was ready:\n${readFileSync(logFile, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`manager not ready after 20 s:\n${readFileSync(logFile, 'utf8')}`);
      port = Number(logLines().find((l) => l.msg === 'manager ready')?.port ?? 0);
      if (!port) await sleep(20);
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const socketPath = join(stateDir, 'control.sock');
  return {
    stateDir,
    socketPath,
    pid: proc.pid!,
    port,
    addr: `127.0.0.1:${port}`,
    logLines,
    control(channelKey?: string): ControlClient {
      const c = controlClient(socketPath, channelKey);
      clients.push(c);
      return c;
    },
    stop,
  };
}

/**
 * A Control client on a manager's unix socket (the caller closes it). Clients with distinct
 * `channelKey`s get separate channels (HTTP/2 connections).
 */
export function controlClient(socketPath: string, channelKey?: string): ControlClient {
  const Control = hushProto().Control;
  // grpc-js shares one connection among clients with the same target and options; a local
  // subchannel pool plus a distinct option gives each key its own connection.
  const options: grpc.ChannelOptions = channelKey === undefined ? {} : { 'grpc.use_local_subchannel_pool': 1, 'hush.bench.channel': channelKey };
  return new Control(`unix://${socketPath}`, grpc.credentials.createInsecure(), options);
}
