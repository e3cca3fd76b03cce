// `hush manager ...` and `hush join-token ...`
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError } from '../client.js';
import { DEFAULT_CERT_EXPIRY, DEFAULT_LISTEN, DEFAULT_MANAGER_STATE_DIR } from '../../common/defaults.js';
import { parseCount, parseDuration, parseHostPort } from '../input.js';
import { action, controlFor } from './common.js';
import { etcdOptions, parseEtcdSettings, type EtcdFlags } from './etcd-flags.js';
import { managerClusterCommands } from './manager-cluster.js';
import { managerMigrateCommand } from './manager-migrate.js';

const stateDirOf = (opts: { stateDir?: string }) => opts.stateDir ?? process.env.HUSH_STATE_DIR ?? DEFAULT_MANAGER_STATE_DIR;

/**
 * Overrides of the TLS port's connection limits from the environment (documented in README.md,
 * "Limits"); unset ones keep the defaults sized from the open files limit.
 */
function connectionLimitsFromEnv(env: NodeJS.ProcessEnv): Record<string, number> {
  const limits: Record<string, number> = {};
  const durations = { handshakeTimeoutMs: 'HUSH_TLS_HANDSHAKE_TIMEOUT', anonymousMaxAgeMs: 'HUSH_ANONYMOUS_MAX_AGE' };
  for (const [field, name] of Object.entries(durations)) {
    const v = env[name];
    if (v !== undefined && v !== '') limits[field] = parseDuration(v, name, 100, 3_600_000);
  }
  const counts = {
    maxPending: 'HUSH_MAX_PENDING_CONNECTIONS', maxPendingPerAddress: 'HUSH_MAX_PENDING_PER_ADDRESS',
    maxAnonymous: 'HUSH_MAX_ANONYMOUS_CONNECTIONS', maxAnonymousPerAddress: 'HUSH_MAX_ANONYMOUS_PER_ADDRESS',
  };
  for (const [field, name] of Object.entries(counts)) {
    const v = env[name];
    if (v !== undefined && v !== '') limits[field] = parseCount(v, name, 1, 1_000_000);
  }
  return limits;
}

function joinHint(role: string, token: string, addr: string): string {
  return `To add a ${role} to this cluster, run on the node:\n\n    hush agent run --manager ${addr} --token ${token}\n`;
}

/** The subcommands of `hush manager` (main.ts declares the group). */
export function managerCommands(manager: Command): void {
  const init = manager.command('init').description('create a new cluster: root CA, data key, join tokens, empty store')
    .option('--state-dir <dir>', `state directory (default: $HUSH_STATE_DIR or ${DEFAULT_MANAGER_STATE_DIR})`)
    .option('--listen <host:port>', 'address of the TLS port for nodes', DEFAULT_LISTEN)
    .option('--autolock', 'keep the data key locked by an unlock key that is printed once and never stored')
    .option('--cert-expiry <duration>', 'validity of node certificates, e.g. 90d or 2160h', DEFAULT_CERT_EXPIRY)
    .option('--etcd <urls>', 'create the cluster in etcd (comma-separated member URLs) instead of the embedded SQLite store');
  etcdOptions(init)
    .action(action(async (_cmd, opts: { stateDir?: string; listen: string; autolock?: boolean; certExpiry: string; etcd?: string } & EtcdFlags) => {
      const listenAddr = parseHostPort(opts.listen, '--listen address');
      const certExpiryMs = parseDuration(opts.certExpiry, '--cert-expiry');
      const stateDir = stateDirOf(opts);
      if (!opts.etcd && (opts.etcdPrefix || opts.etcdCacert || opts.etcdCert || opts.etcdKey)) throw new CliError('--etcd-prefix, --etcd-cacert, --etcd-cert and --etcd-key need --etcd');
      const etcd = opts.etcd ? parseEtcdSettings(opts.etcd, '--etcd', opts) : undefined;
      const { initCluster } = await import('../../manager/cluster/init.js');
      const r = await initCluster({ stateDir, listenAddr, autolock: !!opts.autolock, certExpiryMs, etcd });
      console.log(`Cluster ${r.clusterId} initialised in ${etcd ? `etcd (${etcd.endpoints.join(',')}, prefix ${etcd.prefix}), state in ` : ''}${stateDir}.`);
      console.log(`Start the manager with: hush manager run --state-dir ${stateDir}\n`);
      console.log(joinHint('worker', r.workerToken, listenAddr));
      if (r.unlockKey) {
        console.log('Autolock is on. This is the only time the unlock key is shown unless you run');
        console.log('`hush manager unlock-key` on an unlocked manager. Keep it safe: a restarted manager');
        console.log('stays locked until it is given this key with `hush manager unlock`.\n');
        console.log(`    ${r.unlockKey}\n`);
      }
    }));

  manager.command('run').description('serve the cluster (stays in the foreground)')
    .option('--state-dir <dir>', `state directory (default: $HUSH_STATE_DIR or ${DEFAULT_MANAGER_STATE_DIR})`)
    .option('--listen <host:port>', 'override the listen address recorded at init')
    .option('--heartbeat-period <duration>', 'how often nodes heartbeat; a node missing 3 periods is down (default: $HUSH_HEARTBEAT_PERIOD or 5s)')
    .action(action(async (_cmd, opts: { stateDir?: string; listen?: string; heartbeatPeriod?: string }) => {
      const { runManager } = await import('../../manager/daemon.js');
      await runManager({
        stateDir: stateDirOf(opts),
        listenAddr: opts.listen && parseHostPort(opts.listen, '--listen address'),
        heartbeatPeriodMs: parseDuration(opts.heartbeatPeriod ?? process.env.HUSH_HEARTBEAT_PERIOD ?? '5s', '--heartbeat-period', 100, 3_600_000),
        // The scheduler election's lease on etcd, in seconds (README, "Managers on etcd").
        electionTtlSec: process.env.HUSH_ELECTION_TTL ? parseCount(process.env.HUSH_ELECTION_TTL, 'HUSH_ELECTION_TTL', 2, 600) : undefined,
        compactEveryMs: process.env.HUSH_COMPACTION_INTERVAL ? parseDuration(process.env.HUSH_COMPACTION_INTERVAL, 'HUSH_COMPACTION_INTERVAL', 1000, 86_400_000) : undefined,
        limits: connectionLimitsFromEnv(process.env),
      });
    }));

  manager.command('unlock').description('unlock a locked manager with its unlock key (read from stdin unless --unlock-key-file)')
    .option('--unlock-key-file <file>', 'file holding the unlock key')
    .action(action(async (cmd, opts: { unlockKeyFile?: string }) => {
      let text: string;
      try {
        text = readFileSync(opts.unlockKeyFile ?? 0, 'utf8').trim();
      } catch (e) {
        throw new CliError(`cannot read the unlock key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!text) throw new CliError('no unlock key given (stdin was empty)');
      await controlFor(cmd).call('Unlock', { unlockKey: text });
      console.log('Manager unlocked.');
    }));

  manager.command('unlock-key').description('show (or rotate) the unlock key of an autolocked manager')
    .option('--rotate', 'replace the unlock key; the old one stops working')
    .option('-q, --quiet', 'only display the key')
    .action(action(async (cmd, opts: { rotate?: boolean; quiet?: boolean }) => {
      const res = await controlFor(cmd).call<object, { unlockKey: string; autolock: boolean }>('GetUnlockKey', { rotate: !!opts.rotate });
      if (!res.autolock) throw new CliError('autolock is not enabled on this cluster: there is no unlock key');
      if (!res.unlockKey) throw new CliError('the unlock key is not known to this manager process');
      if (opts.quiet) return void console.log(res.unlockKey);
      if (opts.rotate) console.log('Successfully rotated the unlock key.');
      console.log(`To unlock a restarted manager, run \`hush manager unlock\` and give it:\n\n    ${res.unlockKey}\n`);
    }));

  managerClusterCommands(manager, stateDirOf);
  managerMigrateCommand(manager, stateDirOf);

  manager.command('status').description('show the manager\'s state')
    .action(action(async (cmd) => {
      const s = await controlFor(cmd).call<object, Record<string, unknown>>('GetManagerStatus', {});
      console.log(JSON.stringify(s, null, 2));
    }));
}

/** What `hush join-token` does (main.ts declares it: its argument and options are listed by `hush --help`). */
export function joinTokenAction(joinToken: Command): void {
  joinToken.action(action(async (cmd, role: string, opts: { rotate?: boolean; quiet?: boolean }) => {
    if (role !== 'worker' && role !== 'manager') throw new CliError(`unknown role ${JSON.stringify(role)}: worker or manager`);
    const control = controlFor(cmd);
    const { token } = await control.call<object, { token: string }>('GetJoinToken', { role, rotate: !!opts.rotate });
    if (opts.quiet) return void console.log(token);
    const status = await control.call<object, { listenAddr: string }>('GetManagerStatus', {});
    if (opts.rotate) console.log(`Successfully rotated ${role} join token.\n`);
    console.log(joinHint(role, token, status.listenAddr));
  }));
}
