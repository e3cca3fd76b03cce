// The Docker Swarm baseline: a private dockerd (its own data root, exec root and socket under a
// temporary directory, no iptables, no bridge) turned into a single-node swarm, driven through
// its Engine API over the unix socket with node's http module. See
// shared/reference/swarm-on-this-machine.md. Everything is undone by stop() (and by the bench's
// cleanup registry on failure or interruption): leave the swarm, stop dockerd, unmount and
// remove the directory.
//
// HUSH_BENCH_DOCKERD=/path/to/dockerd picks the daemon binary (default: dockerd on PATH or in /usr/sbin).
// startSwarm() throws BaselineUnavailable when docker is not installed or cannot start here;
// benches report that as "baseline skipped: <reason>" and carry on with hush's figures.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { mountsUnder, onCleanup, sleep } from './harness.js';

export const API_VERSION = 'v1.41'; // Engine 20.10, Debian's docker.io

export class BaselineUnavailable extends Error {}

export interface ApiResponse {
  status: number;
  body: string;
}

export interface RunningSwarm {
  socketPath: string;
  dockerdVersion: string;
  /** One Engine API call; `agent` picks the connection pool (keep-alive). */
  api(method: string, path: string, body?: unknown, agent?: http.Agent): Promise<ApiResponse>;
  /** A keep-alive pool of at most `sockets` connections to the daemon. */
  agent(sockets: number): http.Agent;
  stop(): Promise<void>;
}

function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch { /* next */ }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function request(socketPath: string, method: string, path: string, body: unknown, agent: http.Agent | false, timeoutMs = 30_000): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      socketPath, method, path, agent,
      headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function startSwarm(log: (line: string) => void): Promise<RunningSwarm> {
  const override = process.env.HUSH_BENCH_DOCKERD;
  const dockerd = override || findExecutable('dockerd');
  if (!dockerd) throw new BaselineUnavailable('dockerd is not installed (apt-get install -y --no-install-recommends docker.io)');
  try {
    accessSync(dockerd, constants.X_OK);
  } catch {
    throw new BaselineUnavailable(`${dockerd} (HUSH_BENCH_DOCKERD) is not an executable`);
  }
  if (process.getuid && process.getuid() !== 0) throw new BaselineUnavailable('dockerd needs root');

  const base = mkdtempSync('/tmp/hush-bench-dockerd-');
  const socketPath = join(base, 'docker.sock');
  const logTail: string[] = [];
  let proc: ChildProcess | undefined;
  let inSwarm = false;

  const stop = onCleanup(`dockerd in ${base}`, async () => {
    if (inSwarm) {
      try {
        await request(socketPath, 'POST', `/${API_VERSION}/swarm/leave?force=true`, undefined, false, 15_000);
      } catch (e) {
        log(`swarm leave failed: ${(e as Error).message}`);
      }
    }
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc!.once('exit', () => r()));
      proc.kill('SIGTERM');
      const killer = setTimeout(() => {
        // dockerd runs in its own process group (with the containerd it started): end that group.
        try { process.kill(-proc!.pid!, 'SIGKILL'); } catch { /* gone */ }
      }, 15_000);
      await exited;
      clearTimeout(killer);
    }
    for (const m of mountsUnder(base)) spawnSync('umount', ['-l', m]);
    rmSync(base, { recursive: true, force: true });
  });

  try {
    proc = spawn(dockerd, [
      '--iptables=false', '--ip-masq=false', '--bridge=none',
      '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'),
      '--pidfile', join(base, 'dockerd.pid'), '--host', `unix://${socketPath}`,
    ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        logTail.push(line);
        if (logTail.length > 30) logTail.shift();
      }
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exitInfo: string | undefined;
    proc.once('exit', (code, signal) => { exitInfo = `dockerd exited (${signal ?? code})`; });
    proc.once('error', (e) => { exitInfo = `cannot run dockerd: ${e.message}`; });

    const why = () => {
      const last = logTail.filter((l) => /level=(error|fatal)/.test(l)).pop() ?? logTail[logTail.length - 1] ?? '';
      const m = /msg="([^"]*)"/.exec(last);
      return m ? m[1] : last;
    };
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exitInfo) throw new BaselineUnavailable(`${exitInfo}: ${why()}`);
      try {
        if ((await request(socketPath, 'GET', '/_ping', undefined, false, 2000)).status === 200) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new BaselineUnavailable(`dockerd did not answer /_ping within 30 s: ${why()}`);
      await sleep(100);
    }
    const version = JSON.parse((await request(socketPath, 'GET', `/${API_VERSION}/version`, undefined, false)).body) as { Version?: string };

    const port = await freePort();
    const init = await request(socketPath, 'POST', `/${API_VERSION}/swarm/init`,
      { ListenAddr: `127.0.0.1:${port}`, AdvertiseAddr: '127.0.0.1' }, false);
    if (init.status !== 200) throw new BaselineUnavailable(`swarm init failed (${init.status}): ${init.body.trim()}`);
    inSwarm = true;
    log(`dockerd ${version.Version ?? '?'} up, single-node swarm initialised (${base})`);

    const agents: http.Agent[] = [];
    return {
      socketPath,
      dockerdVersion: version.Version ?? '?',
      api: (method, path, body, agent) => request(socketPath, method, path, body, agent ?? false),
      agent(sockets: number) {
        const a = new http.Agent({ keepAlive: true, maxSockets: sockets });
        agents.push(a);
        return a;
      },
      stop: async () => {
        for (const a of agents) a.destroy();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    if (e instanceof BaselineUnavailable) throw e;
    throw new BaselineUnavailable((e as Error).message);
  }
}
