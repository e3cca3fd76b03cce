// A private Docker engine for the container tests (integration/containers.test.ts): Debian's
// docker.io, its own data root, exec root, pidfile and socket under a fresh /tmp directory, no
// iptables, no bridge (containers run with --network none), and a `busybox:local` image built
// offline from Debian's busybox-static (shared/reference/swarm-on-this-machine.md).
//
// startDocker() installs docker.io and busybox-static when they are missing (`apt-get update` once,
// then `apt-get install`; set HUSH_TEST_NO_APT=1 to forbid that) and throws DockerUnavailable with a
// one-line reason when the engine cannot run here: the test then skips LOUDLY with that reason.
// stop() removes every container, stops dockerd (and the containerd it started), lazily unmounts
// whatever is left under the directory and removes it; an exit handler does the same (synchronously,
// SIGKILL) for a test process that dies without calling stop().
//
// The docker CLI is always called with --host unix://<our socket>, never through DOCKER_HOST, so
// that no other engine on the machine is touched. Every child process has a timeout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { mountPointsUnderSync } from './mounts.js';
import { run, type RunResult } from './proc.js';
import { waitUntil } from '../../common/testing/wait.js';

export const BUSYBOX_IMAGE = 'busybox:local';
const BUSYBOX = '/bin/busybox';

export class DockerUnavailable extends Error {}

export interface Docker {
  /** The private directory (data root, exec root, socket, logs). */
  base: string;
  socketPath: string;
  /** dockerd's version, e.g. 20.10.24+dfsg1. */
  version: string;
  /** `docker --host unix://<socket> ...args`. */
  cli(args: string[], timeoutMs?: number): Promise<RunResult>;
  /** Like cli(), but throws (with stderr) unless it exits 0; resolves with stdout. */
  cliOk(args: string[], timeoutMs?: number): Promise<string>;
  /** `docker run -d --name NAME ...runArgs IMAGE sh -c SCRIPT`; resolves with the container id. */
  runDetached(name: string, runArgs: string[], script: string): Promise<string>;
  /** `docker run --rm ...runArgs IMAGE sh -c SCRIPT` to completion. */
  runOnce(runArgs: string[], script: string, timeoutMs?: number): Promise<RunResult>;
  /** `docker rm -f` (ignores a missing container). */
  remove(...names: string[]): Promise<void>;
  /** Removes every container, stops dockerd, unmounts and removes `base`. Idempotent. */
  stop(): Promise<void>;
}

// ---- packages ----

function findExecutable(name: string, preferred: string[] = []): string | undefined {
  const dirs = [...preferred, ...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch { /* next */ }
  }
  return undefined;
}

/** True for an ELF executable without a PT_INTERP program header (statically linked). */
function isStaticElf(path: string): boolean {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return false;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false; // ELF64, little endian
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > b.length) return false;
    if (b.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

// docker.io's own CLI (/usr/bin/docker), not whatever else is first on PATH.
const dockerCli = () => findExecutable('docker', ['/usr/bin']);
// HUSH_TEST_DOCKERD=/path/to/dockerd picks the daemon (and, when it is not an executable, shows the skip path).
const dockerd = () => process.env.HUSH_TEST_DOCKERD ?? findExecutable('dockerd', ['/usr/sbin', '/usr/bin']);

function missingPackages(): string[] {
  const missing: string[] = [];
  if (!dockerCli() || (!process.env.HUSH_TEST_DOCKERD && !dockerd())) missing.push('docker.io');
  if (!isStaticElf(BUSYBOX)) missing.push('busybox-static');
  return missing;
}

let aptUpdated = false;

/** Installs docker.io and busybox-static when missing; throws DockerUnavailable when it cannot. */
export async function ensureDockerPackages(log: (line: string) => void = () => {}): Promise<void> {
  let missing = missingPackages();
  if (missing.length === 0) return;
  if (process.env.HUSH_TEST_NO_APT) throw new DockerUnavailable(`${missing.join(' and ')} not installed and HUSH_TEST_NO_APT is set`);
  if (process.getuid?.() !== 0) throw new DockerUnavailable(`${missing.join(' and ')} not installed, and installing needs root`);
  log(`installing ${missing.join(' ')} with apt-get`);
  const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  if (!aptUpdated) {
    const u = await run(env[0], [env[1], 'apt-get', 'update', '-qq', '-o', 'DPkg::Lock::Timeout=120'], { timeoutMs: 300_000 });
    if (u.code !== 0) throw new DockerUnavailable(`apt-get update failed (${u.timedOut ? 'timeout' : `exit ${u.code}`}): ${lastLine(u.stderr)}`);
    aptUpdated = true;
  }
  const i = await run(env[0], [env[1], 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=120', ...missing], { timeoutMs: 600_000 });
  missing = missingPackages();
  if (i.code !== 0 || missing.length > 0) {
    throw new DockerUnavailable(`apt-get install ${missing.join(' ')} failed (${i.timedOut ? 'timeout' : `exit ${i.code}`}): ${lastLine(i.stderr)}`);
  }
}

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

// ---- the daemon ----

function ping(socketPath: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'GET', path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const live = new Map<string, ChildProcess>();

process.once('exit', () => {
  // Last resort, synchronous: SIGKILL every daemon we started (its process group holds containerd
  // and the shims), unmount what they left and remove their directories.
  for (const [base, proc] of live) {
    if (proc.exitCode === null && proc.signalCode === null) {
      try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const m of mountPointsUnderSync(base)) spawnSync('umount', ['-l', m], { timeout: 5000, stdio: 'ignore' });
    if (mountPointsUnderSync(base).length === 0) rmSync(base, { recursive: true, force: true });
  }
});

/**
 * Starts a private dockerd and imports busybox:local. Throws DockerUnavailable (with the reason)
 * when docker cannot run here; cleans up after itself on any failure.
 */
export async function startDocker(log: (line: string) => void = () => {}): Promise<Docker> {
  if (process.getuid?.() !== 0) throw new DockerUnavailable('dockerd needs root');
  await ensureDockerPackages(log);
  const daemon = dockerd()!;
  const cliBin = dockerCli()!;
  try {
    accessSync(daemon, constants.X_OK);
  } catch {
    throw new DockerUnavailable(`${daemon} is not an executable`);
  }

  // Short path: the socket paths below it must fit in sun_path (108 bytes).
  const base = mkdtempSync('/tmp/hush-it-dockerd-');
  const socketPath = join(base, 'docker.sock');
  const logTail: string[] = [];
  let proc: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;

  const cli = (args: string[], timeoutMs = 60_000) => run(cliBin, ['--host', `unix://${socketPath}`, ...args], { timeoutMs });
  const cliOk = async (args: string[], timeoutMs?: number) => {
    const r = await cli(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.timedOut ? 'timed out' : `exit ${r.code}`}: ${r.stderr.trim()}`);
    return r.stdout.toString();
  };

  const stop = () => {
    stopped ??= (async () => {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        // Containers first (SIGKILL, no stop grace period), then the daemon.
        try {
          const ids = (await cliOk(['ps', '-aq'], 20_000)).split('\n').filter(Boolean);
          if (ids.length) await cli(['rm', '-f', ...ids], 60_000);
        } catch (e) {
          log(`removing containers failed: ${(e as Error).message}`);
        }
        const exited = new Promise<void>((r) => proc!.once('exit', () => r()));
        proc.kill('SIGTERM');
        const killer = setTimeout(() => {
          try { process.kill(-proc!.pid!, 'SIGKILL'); } catch { /* gone */ }
        }, 20_000);
        await exited;
        clearTimeout(killer);
        // containerd and the shims are in dockerd's process group; make sure none outlives it.
        try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* all gone */ }
      }
      live.delete(base);
      for (let i = 0; i < 3; i++) {
        const left = mountPointsUnderSync(base);
        if (left.length === 0) break;
        for (const m of left) await run('umount', ['-l', m], { timeoutMs: 10_000 });
      }
      const left = mountPointsUnderSync(base);
      if (left.length === 0) rmSync(base, { recursive: true, force: true });
      else log(`left ${base} in place: still mounted below it: ${left.join(', ')}`);
    })();
    return stopped;
  };

  try {
    proc = spawn(daemon, [
      '--iptables=false', '--ip-masq=false', '--bridge=none',
      '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'),
      '--pidfile', join(base, 'dockerd.pid'), '--host', `unix://${socketPath}`,
    ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.set(base, proc);
    // The daemon must not keep the test process alive: stop() / the exit handler end it.
    proc.unref();
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        logTail.push(line);
        if (logTail.length > 40) logTail.shift();
      }
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    (proc.stdout as unknown as { unref(): void }).unref();
    (proc.stderr as unknown as { unref(): void }).unref();
    let exitInfo: string | undefined;
    proc.once('exit', (code, signal) => { exitInfo = `dockerd exited (${signal ?? code})`; });
    proc.once('error', (e) => { exitInfo = `cannot run ${daemon}: ${e.message}`; });
    const why = () => {
      const last = logTail.filter((l) => /level=(error|fatal)/.test(l)).pop() ?? logTail[logTail.length - 1] ?? '';
      return /msg="([^"]*)"/.exec(last)?.[1] ?? last;
    };

    await waitUntil('dockerd to answer /_ping', async () => {
      if (exitInfo) throw new DockerUnavailable(`${exitInfo}: ${why()}`);
      return (await ping(socketPath).catch(() => 0)) === 200; // not up yet
    }, 30_000, { intervalMs: 100, errors: 'fail' }).catch((err) => {
      throw err instanceof DockerUnavailable ? err : new DockerUnavailable(`dockerd did not answer /_ping within 30 s: ${why()}`);
    });
    const version = (await cliOk(['version', '--format', '{{.Server.Version}}'])).trim();

    // busybox:local: the static busybox and a link per applet, imported from a tar file.
    const bb = join(base, 'busybox-root');
    mkdirSync(join(bb, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX, join(bb, 'bin', 'busybox'));
    const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8', timeout: 5000 }).stdout.split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
    for (const a of applets) if (!existsSync(join(bb, 'bin', a))) symlinkSync('busybox', join(bb, 'bin', a));
    for (const d of ['run', 'tmp', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(bb, d), { recursive: true });
    const tar = join(base, 'busybox.tar');
    const t = await run('tar', ['-C', bb, '-cf', tar, '.'], { timeoutMs: 30_000 });
    if (t.code !== 0) throw new DockerUnavailable(`cannot pack the busybox image: ${t.stderr.trim()}`);
    await cliOk(['import', tar, BUSYBOX_IMAGE]);
    rmSync(tar, { force: true });

    // Smoke test: a container can start here at all.
    const smoke = await cli(['run', '--rm', '--network', 'none', BUSYBOX_IMAGE, 'true'], 60_000);
    if (smoke.code !== 0) throw new DockerUnavailable(`a container cannot start here: ${lastLine(smoke.stderr)}`);
    log(`dockerd ${version} up in ${base}; ${BUSYBOX_IMAGE} imported (${applets.length} applets)`);

    return {
      base, socketPath, version, cli, cliOk, stop,
      runDetached: async (name, runArgs, script) =>
        (await cliOk(['run', '-d', '--name', name, ...runArgs, BUSYBOX_IMAGE, 'sh', '-c', script])).trim(),
      runOnce: (runArgs, script, timeoutMs = 60_000) => cli(['run', '--rm', ...runArgs, BUSYBOX_IMAGE, 'sh', '-c', script], timeoutMs),
      remove: async (...names) => {
        if (names.length) await cli(['rm', '-f', ...names], 60_000);
      },
    };
  } catch (e) {
    await stop();
    if (e instanceof DockerUnavailable) throw e;
    throw new DockerUnavailable((e as Error).message);
  }
}

// ---- a container that reads one file in a loop ----

/** One iteration of a reader container's loop. */
export interface Sample {
  /** Seconds since boot (CLOCK_BOOTTIME, the same clock as the host's /proc/uptime), taken just before the read. */
  t: number;
  ok: boolean;
  /** sha256 of the bytes read (the value itself is never printed, so never lands in docker's logs). */
  sha256?: string;
  /** The error line, e.g. "sha256sum: can't open '/run/secrets/pw': Transport endpoint is not connected". */
  error?: string;
  /** The errno name the error line stands for (ENOENT, ENOTCONN, ECONNABORTED, EACCES, EIO...). */
  errno?: string;
}

const ERRNO_TEXT: Array<[RegExp, string]> = [
  [/No such file or directory/, 'ENOENT'],
  [/Transport endpoint is not connected/, 'ENOTCONN'],
  [/Software caused connection abort/, 'ECONNABORTED'],
  [/Permission denied/, 'EACCES'],
  [/I\/O error/, 'EIO'],
  [/Not a directory/, 'ENOTDIR'],
  [/Stale file handle/, 'ESTALE'],
];

/** The errno name of an error line from a busybox tool (its strerror text). */
export function errnoOf(line: string): string {
  return ERRNO_TEXT.find(([re]) => re.test(line))?.[1] ?? `other(${line.trim()})`;
}

/** A shell loop that hashes `file` every 0.1 s and prints "<uptime> ok <sha256>" or "<uptime> err <message>". */
export function readerScript(file: string): string {
  return `while true; do read up rest < /proc/uptime; if out=$(sha256sum '${file}' 2>&1); then echo "$up ok \${out%% *}"; ` +
    `else echo "$up err $out"; fi; sleep 0.1; done`;
}

export function parseSamples(logs: string): Sample[] {
  const out: Sample[] = [];
  for (const line of logs.split('\n')) {
    const m = /^(\d+(?:\.\d+)?) (ok|err) (.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === 'ok') out.push({ t: Number(m[1]), ok: true, sha256: m[3] });
    else out.push({ t: Number(m[1]), ok: false, error: m[3], errno: errnoOf(m[3]) });
  }
  return out;
}

export interface ReaderContainer {
  name: string;
  file: string;
  /** Every sample so far (from `docker logs`). */
  samples(): Promise<Sample[]>;
  /** Whether the container's process is still running. */
  running(): Promise<boolean>;
}

/** Starts a detached busybox container (--network none plus runArgs) running readerScript(file). */
export async function startReader(docker: Docker, name: string, runArgs: string[], file: string): Promise<ReaderContainer> {
  await docker.runDetached(name, ['--network', 'none', ...runArgs], readerScript(file));
  return {
    name, file,
    samples: async () => parseSamples(await docker.cliOk(['logs', name])),
    running: async () => (await docker.cliOk(['inspect', '--format', '{{.State.Running}}', name])).trim() === 'true',
  };
}

/** Seconds since boot, on the host (same clock as Sample.t). */
export function uptime(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/**
 * A timeline of samples as runs of the same outcome, with times relative to t0:
 * "ok×12 [-1.21..-0.02] → ENOTCONN×31 [+0.05..+3.10]".
 */
export function timeline(samples: Sample[], t0: number, expectedSha?: string): string {
  const runs: Array<{ what: string; n: number; from: number; to: number }> = [];
  for (const s of samples) {
    const what = s.ok ? (expectedSha && s.sha256 !== expectedSha ? 'ok(other bytes)' : 'ok') : s.errno!;
    const last = runs[runs.length - 1];
    if (last && last.what === what) {
      last.n++;
      last.to = s.t;
    } else {
      runs.push({ what, n: 1, from: s.t, to: s.t });
    }
  }
  const rel = (t: number) => `${t - t0 >= 0 ? '+' : ''}${(t - t0).toFixed(2)}s`;
  return runs.map((r) => `${r.what}×${r.n} [${rel(r.from)}..${rel(r.to)}]`).join(' → ');
}
