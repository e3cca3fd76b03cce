// Several real `hush manager` processes on a real 3-member etcd cluster (loopback): the first made
// with `manager init --etcd`, the others with `manager join`, each on a fixed port of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '../../manager/store/testdata/etcd-cluster.js';
import { waitUntil } from '../../common/testing/wait.js';
import assert from 'node:assert/strict';
import { envFor, freePort, hush, hushOk, startManager, waitUntilReady, type RunningManager } from './manager.js';

export interface HaManager {
  stateDir: string;
  env: NodeJS.ProcessEnv;
  port: number;
  proc?: RunningManager;
  /** `hush manager run` on this state dir (again after a kill), waiting until it serves. */
  start(extraEnv?: NodeJS.ProcessEnv): Promise<RunningManager>;
}

export interface ManagerRow {
  id: string; address: string; hostname: string; leader: boolean; reachable: boolean; self: boolean;
}

export interface HaCluster {
  etcd: EtcdCluster;
  managers: HaManager[];
  workerToken: string;
  managerToken: string;
  unlockKey?: string;
  /** `hush manager ls --format json` on one manager. */
  ls(m: HaManager): Promise<ManagerRow[]>;
  /** Waits until `m` sees every running manager reachable and one of them leading; returns the leader. */
  leader(m: HaManager, timeoutMs?: number): Promise<HaManager>;
  stop(): Promise<void>;
}

const JOIN_TOKEN_RE = /HUSH-1-[0-9a-z]{50}-[0-9a-z]{25}/;
const UNLOCK_KEY_RE = /HUSHKEY-1-[A-Za-z0-9_-]{43}/;

export async function startHaCluster(opts: {
  managers?: number; autolock?: boolean; tls?: boolean; heartbeatPeriod?: string; electionTtl?: number;
} = {}): Promise<HaCluster> {
  const root = mkdtempSync(join(tmpdir(), 'hush-ha-'));
  const etcd = await startEtcdCluster();
  const managers: HaManager[] = [];
  const stop = async () => {
    await Promise.all(managers.map((m) => m.proc?.stop()));
    await etcd.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const runEnv: NodeJS.ProcessEnv = {
      ...(opts.heartbeatPeriod ? { HUSH_HEARTBEAT_PERIOD: opts.heartbeatPeriod } : {}),
      ...(opts.electionTtl ? { HUSH_ELECTION_TTL: String(opts.electionTtl) } : {}),
    };
    const make = async (i: number): Promise<HaManager> => {
      const stateDir = join(root, `m${i}`);
      const m: HaManager = {
        stateDir, env: envFor(stateDir), port: await freePort(),
        async start(extraEnv = {}) {
          m.proc = await startManager(stateDir, { listen: `127.0.0.1:${m.port}`, env: { ...m.env, ...runEnv, ...extraEnv } });
          return m.proc;
        },
      };
      return m;
    };
    const first = await make(1);
    managers.push(first);
    const etcdArgs = opts.tls
      ? ['--etcd', etcd.tlsEndpoints.map((e) => `https://${e}`).join(','), '--etcd-cacert', join(etcd.dir, 'ca.crt'),
        '--etcd-cert', join(etcd.dir, 'client.crt'), '--etcd-key', join(etcd.dir, 'client.key')]
      : ['--etcd', etcd.endpoints.map((e) => `http://${e}`).join(',')];
    const init = await hushOk(['manager', 'init', '--listen', `127.0.0.1:${first.port}`, ...etcdArgs, ...(opts.autolock ? ['--autolock'] : [])], { env: first.env });
    const workerToken = JOIN_TOKEN_RE.exec(init.stdout)?.[0];
    const unlockKey = UNLOCK_KEY_RE.exec(init.stdout)?.[0];
    if (!workerToken) throw new Error(`unexpected output of manager init --etcd:\n${init.stdout}`);
    await first.start();
    if (opts.autolock) {
      await hushOk(['manager', 'unlock'], { env: first.env, input: unlockKey });
      await waitUntilReady(first.proc!);
    }
    const managerToken = (await hushOk(['join-token', 'manager', '-q'], { env: first.env })).stdout.trim();
    for (let i = 2; i <= (opts.managers ?? 3); i++) {
      const m = await make(i);
      managers.push(m);
      await hushOk(['manager', 'join', '--manager', `127.0.0.1:${first.port}`, '--token', managerToken,
        '--listen', `127.0.0.1:${m.port}`, '--state-dir', m.stateDir], { env: m.env });
      await m.start();
      if (opts.autolock) {
        assert.equal(m.proc!.locked, true, 'a joined manager of an autolocked cluster starts locked');
        await hushOk(['manager', 'unlock'], { env: m.env, input: unlockKey });
        await waitUntilReady(m.proc!);
      }
    }
    const ls = async (m: HaManager) => {
      const r = await hush(['manager', 'ls', '--format', 'json'], { env: m.env, timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`manager ls exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ManagerRow);
    };
    const leader = async (m: HaManager, timeoutMs = 30_000) => {
      let found: HaManager | undefined;
      await waitUntil('one reachable leader among the running managers', async () => {
        const rows = await ls(m).catch(() => []);
        const running = managers.filter((x) => x.proc && x.proc.proc.exitCode === null && x.proc.proc.signalCode === null);
        const leaders = rows.filter((r) => r.leader && r.reachable);
        const allUp = running.every((x) => rows.some((r) => r.address === `127.0.0.1:${x.port}` && r.reachable));
        found = leaders.length === 1 ? managers.find((x) => `127.0.0.1:${x.port}` === leaders[0].address) : undefined;
        return allUp && !!found && running.includes(found);
      }, timeoutMs, { intervalMs: 200 });
      return found!;
    };
    return { etcd, managers, workerToken, managerToken, unlockKey, ls, leader, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
