// `hush manager run`: serve the control socket at once, the TLS port once unlocked.
import type * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createLogger } from '../common/log.js';
import { nativeSys } from '../common/native.js';
import { DEFAULT_HEARTBEAT, Manager } from './manager.js';
import { startControlSocket, startTlsServer } from './server/servers.js';
import type { ConnectionLimits } from './server/connection-gate.js';
import { defaultLimits, descriptorLimit } from './server/limits.js';
import type { TlsPort } from './server/tls-port.js';

import { CONTROL_SOCKET } from '../common/defaults.js';

const RENEW_CHECK_MS = 6 * 3_600_000;

export interface RunOptions {
  stateDir: string;
  /** Overrides the listen address recorded at init. */
  listenAddr?: string;
  heartbeatPeriodMs?: number;
  /** Lease TTL of the scheduler election on etcd, seconds. */
  electionTtlSec?: number;
  compactEveryMs?: number;
  /** Overrides of the TLS port's connection limits (default: sized from RLIMIT_NOFILE). */
  limits?: Partial<ConnectionLimits>;
}

export async function runManager(opts: RunOptions): Promise<void> {
  const log = createLogger('hush-manager');
  nativeSys().noCoreDumps(); // the data key and decrypted payloads live in this process's memory
  const manager = await Manager.open(opts.stateDir, log, {
    heartbeat: { ...DEFAULT_HEARTBEAT, periodMs: opts.heartbeatPeriodMs ?? DEFAULT_HEARTBEAT.periodMs },
    listenAddr: opts.listenAddr, electionTtlSec: opts.electionTtlSec, compactEveryMs: opts.compactEveryMs,
  });
  manager.onRemoved = () => {
    log.fatal('this manager was removed from the cluster (`hush manager rm`): stopping');
    process.kill(process.pid, 'SIGTERM');
  };
  // Node raises the soft descriptor limit to the hard one at startup; the caps are sized from the result.
  const nofile = descriptorLimit();
  if (nofile.soft < nofile.hard) log.warn({ soft: nofile.soft, hard: nofile.hard }, 'the open files limit is below its hard limit');
  const limits: ConnectionLimits = { ...defaultLimits(nofile.soft), ...opts.limits };
  log.info({ nofile: nofile.soft, ...limits }, 'connection limits');
  const socketPath = join(opts.stateDir, CONTROL_SOCKET);
  const servers: grpc.Server[] = [await startControlSocket(manager, socketPath, log)];
  const tlsPorts: TlsPort[] = [];
  log.info({ socket: socketPath, locked: manager.locked }, 'control socket ready');

  manager.onUnlock(({ cluster, presence }) => {
    const addr = presence.addr;
    startTlsServer(manager, addr, limits, log).then(({ server, port, tls }) => {
      servers.push(server);
      tlsPorts.push(tls);
      presence.listening(addr.replace(/:\d+$/, `:${port}`));
      log.info({ clusterId: cluster.id, listen: addr, port }, 'manager ready');
      // The manager's own certificate is re-issued once half its validity has passed; new TLS
      // handshakes use it at once (a manager may run longer than one validity period).
      const renewal = setInterval(() => {
        cluster.renewIdentityIfDue().then((renewed) => {
          if (!renewed) return;
          tls.update(cluster.ca.certPem, cluster.identity.certPem, cluster.identity.key);
          log.info('manager certificate renewed');
        }, (err: Error) => log.error({ err: err.message }, 'cannot renew the manager certificate'));
      }, RENEW_CHECK_MS);
      renewal.unref();
    }, (err: Error) => {
      log.fatal({ listen: addr, err: err.message }, 'cannot listen');
      process.exit(1);
    });
  });
  if (manager.locked) log.warn('manager is locked: serving only Unlock until `hush manager unlock` is given the key');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    manager.quiesce();
    tlsPorts.forEach((t) => t.close());
    const force = setTimeout(() => servers.forEach((s) => s.forceShutdown()), 2000);
    force.unref();
    Promise.all(servers.map((s) => new Promise<void>((r) => s.tryShutdown(() => r()))))
      .then(() => manager.close())
      .finally(() => {
        rmSync(socketPath, { force: true });
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
