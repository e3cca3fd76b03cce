// `hush agent run`: join (first start) or load the node identity, mount the
// read-only view at the mount point, keep the per-task propagation anchors (fs/anchors.ts),
// follow the managers, renew the certificate.
import * as grpc from '@grpc/grpc-js';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, chmodSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { createLogger } from '../common/log.js';
import { NodeSecrets } from './secrets/node-secrets.js';
import { mountSecrets, type MountedSecrets } from '../fs/mount.js';
import { TaskAnchors } from '../fs/anchors.js';
import { joinCluster, renewCertificate, renewExpiredCertificate } from './join.js';
import { loadIdentity, renewalTime, saveIdentity, validity } from './identity.js';
import { ManagerConnection } from './connection.js';
import { AGENT_STATUS_SOCKET, describeTasks, serveStatus } from './status.js';
import type { NodeCredentials } from './channel.js';
import { sdNotify } from './notify.js';
import { nativeSys } from '../common/native.js';

export interface AgentOptions {
  managers: string[];
  token?: string;
  stateDir: string;
  mount: string;
  /** The per-task anchor directory (fs/anchors.ts); undefined: no anchors. */
  anchors?: string;
  hostname?: string;
  labels: Record<string, string>;
  /** Called once the first COMPLETE is served (systemd readiness). */
  onReady?: () => void;
}

const RENEW_RETRY_MIN_MS = 1000;
const RENEW_RETRY_MAX_MS = 5 * 60_000;
/** How long a stop waits for the anchors to be detached before it unmounts anyway. */
const ANCHORS_STOP_TIMEOUT_MS = 5000;

export async function runAgent(opts: AgentOptions): Promise<void> {
  const log = createLogger('hush-agent');
  nativeSys().noCoreDumps(); // this process will hold secret payloads: never a core dump of it
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  chmodSync(opts.stateDir, 0o700);

  let creds = loadIdentity(opts.stateDir);
  if (!creds) {
    if (!opts.token) throw new Error(`no node identity in ${opts.stateDir}: give --token to join the cluster`);
    creds = await joinFirstReachable(opts, log);
    saveIdentity(opts.stateDir, creds);
    log.info({ nodeId: creds.nodeId, role: creds.role }, 'joined the cluster');
  } else {
    log.info({ nodeId: creds.nodeId, role: creds.role }, 'loaded node identity');
  }
  let current: NodeCredentials = creds;

  // Names only (never values): a path two services claim is served for neither (an older manager's service name with a dot).
  const secrets = new NodeSecrets((c) => log.error({ path: c.name, services: c.services }, 'two services claim one path on the mount: serving it for neither'));
  const mounted: MountedSecrets = await mountSecrets(opts.mount, secrets, log);

  // Anchors: the directory becomes its own shared peer group and a killed agent's binds go (consumers
  // see ENOENT instead of ENOTCONN); tasks are bound after the first COMPLETE.
  let anchors: TaskAnchors | undefined;
  if (opts.anchors) {
    anchors = new TaskAnchors(opts.anchors, mounted.mountPoint, secrets, log);
    try {
      await anchors.start();
    } catch (err) {
      await mounted.unmount().catch(() => undefined);
      throw new Error(`cannot prepare the anchor directory ${opts.anchors} (--no-anchors runs without): ${(err as Error).message}`);
    }
  }
  sdNotify({ STATUS: `secrets mounted at ${opts.mount}; waiting for the first assignments from a manager` }, log);

  let status: Server | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const stop = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'stopping');
    sdNotify({ STOPPING: '1', STATUS: `stopping: ${why}` }, log);
    clearTimeout(renewTimer);
    connection.stop();
    // The anchors first: their detach propagates to the containers, which then see ENOENT.
    if (anchors) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        anchors.stop().catch((err: Error) => log.error({ err: err.message }, 'detaching the task anchors failed')),
        new Promise<void>((r) => { timer = setTimeout(() => { log.error({ timeoutMs: ANCHORS_STOP_TIMEOUT_MS }, 'detaching the task anchors timed out'); r(); }, ANCHORS_STOP_TIMEOUT_MS); }),
      ]);
      clearTimeout(timer);
    }
    secrets.wipe();
    await mounted.unmount().catch((err: Error) => log.error({ err: err.message }, 'unmount failed'));
    status?.close();
    rmSync(join(opts.stateDir, AGENT_STATUS_SOCKET), { force: true });
    process.exit(code);
  };

  const connection = new ManagerConnection({
    managers: opts.managers, credentials: () => current, secrets, log,
    onDenied: (reason) => {
      log.fatal({ reason }, 'the cluster refused this node: revoking every secret and stopping');
      void stop(2, reason);
    },
    onFirstComplete: () => {
      void (async () => {
        // The anchors follow the tasks from now on; readiness waits for the first binds.
        if (anchors) await anchors.follow();
        if (stopping) return;
        // systemd readiness (Type=notify): units ordered After=hush-agent.service find their files now.
        sdNotify({ READY: '1', STATUS: `serving ${secrets.taskList().length} task(s) at ${opts.mount}${anchors ? `, anchored in ${anchors.dir}` : ''}` }, log);
        opts.onReady?.();
      })();
    },
  });
  connection.start();

  status = await serveStatus(join(opts.stateDir, AGENT_STATUS_SOCKET), () => ({
    nodeId: current.nodeId, role: current.role, managers: [...connection.managers], managersFrom: connection.managersLearned ? 'cluster' : 'command line',
    mount: opts.mount, anchors: anchors?.dir ?? null,
    connection: connection.status, certNotAfter: new Date(validity(current.certPem).notAfter).toISOString(),
    memoryLock: mounted.memoryLock(),
    tasks: describeTasks(secrets, opts.mount, anchors?.anchors()),
  }));

  // Renewal at a random point in 50–80% of the validity; on failure, retry with backoff.
  let renewFailures = 0;
  const scheduleRenewal = (delay?: number) => {
    const at = delay ?? Math.max(0, renewalTime(validity(current.certPem)) - Date.now());
    renewTimer = setTimeout(renew, Math.min(at, 2 ** 31 - 1));
  };
  const renew = async () => {
    try {
      // The manager we follow; after a failure, the next one in turn (of the set the cluster announced).
      const managers = connection.managers;
      const addr = renewFailures === 0 && connection.status.manager ? connection.status.manager : managers[renewFailures % managers.length];
      // An expired certificate can no longer do mutual TLS: renew with it as proof instead.
      const expired = validity(current.certPem).notAfter <= Date.now();
      current = expired ? await renewExpiredCertificate(addr, current) : await renewCertificate(addr, current);
      saveIdentity(opts.stateDir, current);
      renewFailures = 0;
      log.info({ nodeId: current.nodeId, notAfter: new Date(validity(current.certPem).notAfter).toISOString() }, 'node certificate renewed');
      connection.reconnect();
      scheduleRenewal();
    } catch (err) {
      renewFailures++;
      const delay = Math.min(RENEW_RETRY_MAX_MS, RENEW_RETRY_MIN_MS * 2 ** Math.min(renewFailures, 12));
      const expired = validity(current.certPem).notAfter < Date.now();
      log.error({ err: (err as Error).message, retryInMs: delay, expired }, expired ? 'node certificate expired and renewal failed' : 'certificate renewal failed');
      scheduleRenewal(delay * (0.5 + Math.random() * 0.5));
    }
  };
  scheduleRenewal();

  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  process.on('SIGINT', () => void stop(0, 'SIGINT'));
}

async function joinFirstReachable(opts: AgentOptions, log: ReturnType<typeof createLogger>): Promise<NodeCredentials> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    for (const addr of opts.managers) {
      try {
        return await joinCluster(addr, opts.token!, opts.hostname ?? osHostname(), opts.labels);
      } catch (err) {
        lastError = err as Error;
        const details = (err as { details?: string }).details ?? lastError.message;
        // A refused token or CSR, or a root CA that does not match the token (an error of our own, no
        // gRPC status), will not get better by retrying; only transport failures are retried.
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'number' || [grpc.status.INVALID_ARGUMENT, grpc.status.PERMISSION_DENIED, grpc.status.UNAUTHENTICATED].includes(code)) throw new Error(`cannot join via ${addr}: ${details}`);
        log.warn({ manager: addr, err: details }, 'cannot reach manager to join');
      }
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
  throw new Error(`cannot join: no manager reachable (${(lastError as { details?: string })?.details ?? lastError?.message})`);
}
