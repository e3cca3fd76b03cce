// Managers on etcd for the benches: a real 3-member etcd cluster (loopback) and real `hush manager`
// processes on it (integration/helpers/ha.ts: `manager init --etcd`, then `manager join`), and real
// agents started with --manager A,B,C (integration/helpers/agent-process.ts). Everything is registered
// with the bench's cleanup registry, so a failed or interrupted bench still stops it.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startHaCluster, type HaCluster, type HaManager } from '../integration/helpers/ha.js';
import { startAgent, type RunningAgent } from '../integration/helpers/agent-process.js';
import { onCleanup } from './harness.js';
import { controlClient, type ControlClient } from './manager-proc.js';

export type { HaManager, RunningAgent };

export interface BenchHa {
  cluster: HaCluster;
  managers: HaManager[];
  /** A Control client on that manager's unix socket (closed by stop()); distinct keys get their own channels. */
  control(m: HaManager, channelKey?: string): ControlClient;
  /** `127.0.0.1:port` of a manager, as agents and `manager ls` name it. */
  addr(m: HaManager): string;
  /** The manager that leads now, once every running manager is reachable (see HaCluster.leader). */
  leader(timeoutMs?: number): Promise<HaManager>;
  /** Whether the manager's process is running. */
  running(m: HaManager): boolean;
  /** A real agent joined with the worker token, given every manager's port (--manager A,B,C). */
  agent(hostname: string): Promise<RunningAgent>;
  /** Stops the agents, the managers and etcd; removes the directories. Idempotent. */
  stop(): Promise<void>;
}

export async function startBenchHa(opts: { managers?: number; electionTtl?: number } = {}): Promise<BenchHa> {
  let cluster: HaCluster | undefined;
  const clients: ControlClient[] = [];
  const agents: RunningAgent[] = [];
  const dirs: string[] = [];
  const stop = onCleanup('hush managers on etcd', async () => {
    for (const c of clients) c.close();
    await Promise.allSettled(agents.map((a) => a.stop()));
    await cluster?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  try {
    cluster = await startHaCluster({ managers: opts.managers ?? 3, electionTtl: opts.electionTtl });
  } catch (e) {
    await stop();
    throw e;
  }
  const c = cluster;
  const addr = (m: HaManager) => `127.0.0.1:${m.port}`;
  return {
    cluster: c,
    managers: c.managers,
    addr,
    control(m, channelKey) {
      const client = controlClient(join(m.stateDir, 'control.sock'), channelKey);
      clients.push(client);
      return client;
    },
    leader: (timeoutMs) => c.leader(c.managers.find((m) => m.proc && m.proc.proc.exitCode === null && m.proc.proc.signalCode === null)!, timeoutMs),
    running: (m) => !!m.proc && m.proc.proc.exitCode === null && m.proc.proc.signalCode === null,
    async agent(hostname) {
      const base = mkdtempSync('/tmp/hush-bench-ha-agent-');
      dirs.push(base);
      const a = await startAgent({
        managerPort: c.managers.map((m) => m.port), token: c.workerToken, hostname,
        stateDir: join(base, 'state'), mount: join(base, 'mnt'),
      });
      agents.push(a);
      return a;
    },
    stop,
  };
}
