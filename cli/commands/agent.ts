// `hush agent ...`
import type { Command } from 'commander';
import { connect } from 'node:net';
import { join } from 'node:path';
import { AGENT_STATUS_SOCKET, type AgentStatus } from '../../agent/status.js';
import { parseJoinToken } from '../../common/join-token.js';
import { CliError } from '../client.js';
import { DEFAULT_AGENT_STATE_DIR, DEFAULT_ANCHORS, DEFAULT_MOUNT } from '../../common/defaults.js';
import { parseHostPort, parseLabels } from '../input.js';
import { ago, table } from '../output.js';
import { action, collect } from './common.js';

const stateDirOf = (opts: { stateDir?: string }) => opts.stateDir ?? process.env.HUSH_AGENT_STATE_DIR ?? DEFAULT_AGENT_STATE_DIR;

function readStatus(socket: string): Promise<AgentStatus> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = connect(socket);
    s.setEncoding('utf8');
    s.on('data', (d: string) => { text += d; });
    s.on('end', () => {
      try {
        resolve(JSON.parse(text) as AgentStatus);
      } catch {
        reject(new CliError(`the agent at ${socket} sent an unreadable status`));
      }
    });
    s.on('error', () => reject(new CliError(`cannot reach the hush agent at ${socket}: is \`hush agent run\` running? (set --state-dir or HUSH_AGENT_STATE_DIR)`)));
  });
}

function memoryLockLine(m: AgentStatus['memoryLock'] | undefined): string {
  if (!m) return 'unknown (an older agent)';
  if (m.state === 'locked') return 'every secret locked in memory (out of swap)';
  if (m.state === 'unsupported') return 'not locked (the fuse-native engine cannot lock its buffers)';
  return `${m.failures} secret version(s) could not be locked (mlock: raise RLIMIT_MEMLOCK / LimitMEMLOCK=)`;
}

/** The subcommands of `hush agent` (main.ts declares the group). */
export function agentCommands(agent: Command): void {
  agent.command('run').description('join (first start), mount the secrets read-only and follow the managers (stays in the foreground)')
    .option('--manager <host:port,...>', 'manager addresses, tried in turn (default: $HUSH_MANAGERS)')
    .option('--token <token>', 'join token, first start only (default: $HUSH_TOKEN; the environment keeps it out of the process list)')
    .option('--state-dir <dir>', `where the node identity is kept (default: $HUSH_AGENT_STATE_DIR or ${DEFAULT_AGENT_STATE_DIR})`)
    .option('--mount <dir>', `mount point of the secrets (default: $HUSH_MOUNT or ${DEFAULT_MOUNT})`)
    .option('--anchors <dir>', `per-task propagation anchors for containers: <dir>/<task>/secrets binds <mount>/<task> (default: $HUSH_ANCHORS or ${DEFAULT_ANCHORS}; HUSH_ANCHORS=none disables)`)
    .option('--no-anchors', 'no propagation anchors (containers that bind a task directory break on an agent restart)')
    .option('--hostname <name>', 'hostname recorded for this node (default: this machine\'s)')
    .option('-l, --label <key=value>', 'node label (repeatable; first start only)', collect, [])
    .action(action(async (_cmd, opts: { manager?: string; token?: string; stateDir?: string; mount?: string; anchors?: string | false; hostname?: string; label: string[] }) => {
      // The environment is how hush-agent.service (systemd/) configures the agent: /etc/hush/agent.env.
      const managerList = opts.manager ?? process.env.HUSH_MANAGERS;
      if (!managerList?.trim()) throw new CliError('no manager address: give --manager HOST:PORT[,...] or set HUSH_MANAGERS');
      const managers = managerList.split(',').map((m) => parseHostPort(m.trim(), '--manager address'));
      const token = (opts.token ?? process.env.HUSH_TOKEN)?.trim() || undefined;
      if (token) parseJoinToken(token);
      const mount = opts.mount ?? (process.env.HUSH_MOUNT || DEFAULT_MOUNT);
      if (!mount.startsWith('/')) throw new CliError(`--mount must be an absolute path (got ${JSON.stringify(mount)})`);
      const envAnchors = process.env.HUSH_ANCHORS?.trim();
      const anchorsOpt = opts.anchors ?? (envAnchors === 'none' ? false : envAnchors || DEFAULT_ANCHORS);
      if (anchorsOpt !== false && !anchorsOpt.startsWith('/')) throw new CliError(`--anchors must be an absolute path (got ${JSON.stringify(anchorsOpt)})`);
      const anchors = anchorsOpt === false ? undefined : anchorsOpt.replace(/\/+$/, '') || '/';
      if (anchors === '/') throw new CliError('--anchors cannot be /');
      // Loaded here: it brings the FUSE binding, which no other command needs.
      const { runAgent } = await import('../../agent/agent.js');
      await runAgent({
        managers, token, stateDir: stateDirOf(opts), mount: mount.replace(/\/+$/, '') || '/', anchors,
        hostname: opts.hostname, labels: parseLabels(opts.label),
      });
    }));

  agent.command('status').description('the agent\'s node id, managers, connection and served files (never values)')
    .option('--state-dir <dir>', `the agent's state directory (default: $HUSH_AGENT_STATE_DIR or ${DEFAULT_AGENT_STATE_DIR})`)
    .option('--format <format>', 'json')
    .action(action(async (_cmd, opts: { stateDir?: string; format?: string }) => {
      if (opts.format !== undefined && opts.format !== 'json') throw new CliError(`unsupported format ${JSON.stringify(opts.format)}: only json`);
      const s = await readStatus(join(stateDirOf(opts), AGENT_STATUS_SOCKET));
      if (opts.format === 'json') return void console.log(JSON.stringify(s, null, 2));
      console.log(`Node:        ${s.nodeId} (${s.role})`);
      console.log(`Managers:    ${s.managers.join(', ')}${s.managersFrom ? ` (from the ${s.managersFrom})` : ''}`);
      console.log(`Connection:  ${s.connection.state}${s.connection.manager ? ` to ${s.connection.manager}` : ''} since ${ago(s.connection.since)}${s.connection.lastError && s.connection.state !== 'connected' ? ` (${s.connection.lastError})` : ''}`);
      console.log(`Certificate: valid until ${s.certNotAfter}`);
      console.log(`Memory lock: ${memoryLockLine(s.memoryLock)}`);
      console.log(`Mount:       ${s.mount}`);
      console.log(`Anchors:     ${s.anchors ? `${s.anchors} (containers: --mount type=bind,source=${s.anchors}/<task>,target=/run/hush,readonly,bind-propagation=rslave)` : 'off'}\n`);
      const rows = s.tasks.flatMap((t) => t.files.map((f) => [t.name, f.path ?? `(not served: ${t.notServed})`, `${f.secret}@${f.version}`, `${f.uid}:${f.gid}`, f.mode]));
      console.log(rows.length ? table(['TASK', 'PATH', 'SECRET', 'OWNER', 'MODE'], rows) : 'No tasks assigned to this node.');
      if (s.anchors && s.tasks.length) {
        console.log('');
        console.log(table(['TASK', 'ANCHOR (bind-mount source)', 'FILES'], s.tasks.map((t) => [t.name, t.anchor ?? '(not bound)', t.anchor ? `${t.anchor}/secrets/` : '-'])));
      }
    }));
}
