// `hush install systemd`: places hush's systemd units, their configuration and a `hush` wrapper.
// It starts nothing: the printed next steps do (systemctl daemon-reload, enable --now ...).
import type { Command } from 'commander';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseJoinToken } from '../../common/join-token.js';
import { DEFAULT_AGENT_STATE_DIR, DEFAULT_ANCHORS, DEFAULT_MANAGER_STATE_DIR, DEFAULT_MOUNT } from '../../common/defaults.js';
import { CliError } from '../client.js';
import { parseHostPort } from '../input.js';
import { action } from './common.js';
import { packageRoot } from '../../common/package.js';

/** The units in systemd/ of the package, installed verbatim (they run /usr/local/bin/hush). */
export const UNITS = ['hush-manager.service', 'hush-agent.service'] as const;
export const WRAPPER = '/usr/local/bin/hush';

/** The package root, as a one-line CLI error when this program is not inside one. */
function installedRoot(): string {
  try {
    return packageRoot();
  } catch (e) {
    throw new CliError((e as Error).message.replace(/^hush: /, ''));
  }
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A value for an EnvironmentFile= line: systemd takes it verbatim unless quoted; refuse what would need quoting. */
function envValue(name: string, v: string): string {
  if (!/^[A-Za-z0-9_.,:/@+=\-[\]]*$/.test(v)) throw new CliError(`${name} ${JSON.stringify(v)} has characters an environment file cannot hold unquoted`);
  return v;
}

export interface InstallOptions {
  prefix: string;
  managers?: string;
  token?: string;
  mount?: string;
  /** HUSH_ANCHORS: a directory, or 'none'. */
  anchors?: string;
  agentStateDir?: string;
  node: string;
  cli: string;
  force?: boolean;
}

export interface InstalledFile {
  path: string;
  mode: number;
  action: 'written' | 'kept';
}

/** Writes `text` to `path` atomically (temp file + rename) with `mode`. */
function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.hush-install-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode); // the umask must not widen or narrow it
  renameSync(tmp, path);
}

export function agentEnvText(o: { managers?: string; token?: string; mount: string; anchors: string; stateDir: string }): string {
  return [
    '# /etc/hush/agent.env: configuration of hush-agent.service (written by `hush install systemd`).',
    '# Mode 0600, owned by root: it holds the join token. The token is needed on the first start only',
    '# (the node keeps its certificate in HUSH_AGENT_STATE_DIR); you may remove it once the node has joined.',
    '# `hush install systemd` keeps the values here for whatever options it is not given.',
    '#',
    '# Manager TLS addresses, tried in turn:',
    o.managers ? `HUSH_MANAGERS=${envValue('--manager', o.managers)}` : '#HUSH_MANAGERS=10.0.0.1:4242,10.0.0.2:4242',
    '# Worker join token (`hush join-token worker` on a manager):',
    o.token ? `HUSH_TOKEN=${envValue('--token', o.token)}` : '#HUSH_TOKEN=HUSH-1-...',
    `HUSH_MOUNT=${envValue('--mount', o.mount)}`,
    '# Per-task propagation anchors for containers (DIR/<task>/secrets binds HUSH_MOUNT/<task>), or none:',
    `HUSH_ANCHORS=${envValue('--anchors', o.anchors)}`,
    `HUSH_AGENT_STATE_DIR=${envValue('--agent-state-dir', o.stateDir)}`,
    '#HUSH_LOG_LEVEL=info',
    '',
  ].join('\n');
}

export function managerEnvText(): string {
  return [
    '# /etc/hush/manager.env: configuration of hush-manager.service (written by `hush install systemd`).',
    '# The unit may write only /var/lib/hush/manager (ProtectSystem=strict): another HUSH_STATE_DIR needs',
    '# a drop-in with ReadWritePaths= for it.',
    `HUSH_STATE_DIR=${DEFAULT_MANAGER_STATE_DIR}`,
    '#HUSH_HEARTBEAT_PERIOD=5s',
    '#HUSH_LOG_LEVEL=info',
    '',
  ].join('\n');
}

export function wrapperText(node: string, cli: string): string {
  return `#!/bin/sh\n# Written by \`hush install systemd\`: the hush CLI of ${cli.replace(/\n/g, ' ')}.\nexec ${shQuote(node)} ${shQuote(cli)} "$@"\n`;
}

/** Paths that hush-manager.service cannot see (PrivateTmp=yes, ProtectHome=yes). */
const HIDDEN_FROM_MANAGER = ['/tmp/', '/var/tmp/', '/home/', '/root/', '/run/user/'];

/** Warnings for a wrapper whose node or CLI the manager unit's sandbox would hide. */
export function sandboxWarnings(node: string, cli: string): string[] {
  return [['node binary', node], ['hush CLI', cli]]
    .filter(([, p]) => HIDDEN_FROM_MANAGER.some((h) => p.startsWith(h)))
    .map(([what, p]) => `the ${what} ${p} is hidden from hush-manager.service (PrivateTmp=yes, ProtectHome=yes): the manager unit will not start; use a copy outside /tmp, /var/tmp, /home, /root (e.g. /opt/hush)`);
}

/** The KEY=VALUE lines of an environment file (comments and blank lines skipped); {} if there is none. */
function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m && m[2].trim()) out[m[1]] = m[2].trim();
  }
  return out;
}

export function installSystemd(o: InstallOptions): InstalledFile[] {
  const root = installedRoot();
  if (!existsSync(o.cli)) throw new CliError(`${o.cli} does not exist: build hush first (npm run build)`);
  if (o.managers) for (const m of o.managers.split(',')) parseHostPort(m.trim(), '--manager address');
  if (o.token) parseJoinToken(o.token);
  // What an existing agent.env says is kept for whatever this run does not give.
  const previous = readEnvFile(join(o.prefix, '/etc/hush/agent.env'));
  const managers = o.managers ?? previous.HUSH_MANAGERS;
  const token = o.token ?? previous.HUSH_TOKEN;
  const mount = o.mount ?? previous.HUSH_MOUNT ?? DEFAULT_MOUNT;
  const stateDir = o.agentStateDir ?? previous.HUSH_AGENT_STATE_DIR ?? DEFAULT_AGENT_STATE_DIR;
  const anchors = o.anchors ?? previous.HUSH_ANCHORS ?? DEFAULT_ANCHORS;
  if (!mount.startsWith('/') || !stateDir.startsWith('/')) throw new CliError('--mount and --agent-state-dir must be absolute paths');
  if (anchors !== 'none' && (!anchors.startsWith('/') || anchors.replace(/\/+$/, '') === '')) {
    throw new CliError(`--anchors must be an absolute path other than /, or none (got ${JSON.stringify(anchors)})`);
  }
  const at = (p: string) => join(o.prefix, p);
  const out: InstalledFile[] = [];
  const put = (path: string, text: string, mode: number, overwrite: boolean) => {
    const full = at(path);
    if (!overwrite && existsSync(full)) {
      out.push({ path: full, mode, action: 'kept' });
      return;
    }
    writeAtomic(full, text, mode);
    out.push({ path: full, mode, action: 'written' });
  };
  for (const unit of UNITS) put(`/etc/systemd/system/${unit}`, readFileSync(join(root, 'systemd', unit), 'utf8'), 0o644, true);
  // The agent's configuration holds the join token: kept as it is unless this run says something new.
  const agentConfigGiven = !!(o.managers || o.token || o.mount || o.anchors || o.agentStateDir);
  put('/etc/hush/agent.env', agentEnvText({ managers, token, mount, anchors, stateDir }), 0o600, !!o.force || agentConfigGiven);
  put('/etc/hush/manager.env', managerEnvText(), 0o600, !!o.force);
  chmodSync(at('/etc/hush'), 0o700);
  put('/usr/local/share/doc/hush/systemd.md', readFileSync(join(root, 'systemd', 'systemd.md'), 'utf8'), 0o644, true);
  put(WRAPPER, wrapperText(o.node, o.cli), 0o755, true);
  return out;
}

/** The subcommands of `hush install` (main.ts declares the group). */
export function installCommands(install: Command): void {
  install.command('systemd')
    .description('write hush-manager.service, hush-agent.service, /etc/hush/{agent,manager}.env and the /usr/local/bin/hush wrapper')
    .option('--prefix <dir>', 'install under this root instead of / (e.g. a container tree)', '/')
    .option('--manager <host:port,...>', 'HUSH_MANAGERS for the agent')
    .option('--token <token>', 'HUSH_TOKEN for the agent (worker join token)')
    .option('--mount <dir>', `HUSH_MOUNT for the agent (default ${DEFAULT_MOUNT})`)
    .option('--anchors <dir|none>', `HUSH_ANCHORS for the agent: per-task anchors for containers (default ${DEFAULT_ANCHORS})`)
    .option('--agent-state-dir <dir>', `HUSH_AGENT_STATE_DIR for the agent (default ${DEFAULT_AGENT_STATE_DIR})`)
    .option('--node <path>', 'node binary the wrapper runs', process.execPath)
    .option('--force', 'also overwrite existing /etc/hush/*.env files')
    .action(action(async (_cmd, opts: { prefix: string; manager?: string; token?: string; mount?: string; anchors?: string; agentStateDir?: string; node: string; force?: boolean }) => {
      if (!opts.prefix.startsWith('/')) throw new CliError('--prefix must be an absolute path');
      const cli = join(installedRoot(), 'dist', 'cli', 'main.js');
      const files = installSystemd({
        prefix: resolve(opts.prefix), managers: opts.manager?.split(',').map((m) => m.trim()).join(','), token: opts.token?.trim(), mount: opts.mount,
        anchors: opts.anchors, agentStateDir: opts.agentStateDir, node: resolve(opts.node), cli, force: opts.force,
      });
      for (const w of sandboxWarnings(resolve(opts.node), cli)) process.stderr.write(`Warning: ${w}\n`);
      for (const f of files) console.log(`${f.action === 'written' ? 'wrote' : 'kept '} ${f.path} (${f.mode.toString(8).padStart(4, '0')})`);
      const onHost = resolve(opts.prefix) === '/';
      console.log(`\nNothing was started. Next${onHost ? '' : ' (on the system under ' + opts.prefix + ')'}:`);
      console.log('    systemctl daemon-reload');
      console.log('    hush manager init && systemctl enable --now hush-manager.service      # on a manager');
      console.log('    edit /etc/hush/agent.env; systemctl enable --now hush-agent.service   # on every node');
    }));
}
