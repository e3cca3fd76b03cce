// A real systemd for integration/systemd.test.ts: a minimal Debian tree (debootstrap, cached in
// /var/cache/hush-nspawn between runs on the same machine) booted with systemd-nspawn.
//
// Each boot is throw-away: `--volatile=overlay` puts a tmpfs overlay over the cached tree, so the tree
// is never written and nothing of a run survives it. The host's checkout (read-only), its node binary
// (and any library the tree lacks), /dev/fuse and a per-run directory (/hush-run, read-write: the
// scenario and its results) are bound in. The network is private (loopback only): the manager inside
// listens on 127.0.0.1 of the container, never on the host's. nspawn runs under `timeout`, in its own
// process group, which is SIGKILLed if anything is left: a container is never left running.
//
// What cannot work on a machine (not root, no /dev/fuse, no Debian mirror for debootstrap, nspawn
// unable to boot) comes back as a reason to skip, never as a silent pass.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = process.env.HUSH_NSPAWN_CACHE ?? '/var/cache/hush-nspawn';
export const TREE = join(CACHE_DIR, 'root');
/** What the cached tree holds; a tree without this exact stamp is rebuilt. */
export const TREE_PACKAGES = ['systemd', 'dbus', 'libfuse2', 'fuse'];
const STAMP_FILE = join(TREE, '.hush-nspawn-tree');
const STAMP = `hush-nspawn-tree 1 bookworm minbase ${TREE_PACKAGES.join(',')}\n`;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  ms: number;
}

/** Runs a command to completion (in its own process group, SIGKILLed as a whole on timeout). */
export function run(cmd: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; input?: string }): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let out = '';
    let proc: ChildProcessWithoutNullStreams;
    try {
      proc = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      resolve({ code: 127, signal: null, out: (err as Error).message, ms: 0 });
      return;
    }
    const keep = (b: Buffer) => {
      out += b.toString('utf8');
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    proc.stdin.on('error', () => {});
    proc.stdin.end(opts.input ?? '');
    const killGroup = () => {
      try {
        if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      out += `\n[killed after ${opts.timeoutMs} ms]\n`;
      killGroup();
    }, opts.timeoutMs);
    proc.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, out: out + err.message, ms: Date.now() - started });
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // whatever the command left in its group
      resolve({ code, signal, out, ms: Date.now() - started });
    });
  });
}

const tail = (s: string, lines = 15) => s.trim().split('\n').slice(-lines).map((l) => l.trim()).join(' | ');

async function which(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`], { timeoutMs: 5_000 })).code === 0;
}

/** Why the nspawn tier cannot run here at all, before installing anything; undefined if it may. */
export function hostUnsuitable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (systemd-nspawn and debootstrap need root)';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse on this machine';
  if (!existsSync('/etc/debian_version')) return 'not a Debian host (apt-get is needed for systemd-container and debootstrap)';
  return undefined;
}

/** Installs systemd-container and debootstrap when missing; a reason string if that fails. */
export async function ensureTools(log: (s: string) => void): Promise<string | undefined> {
  const missing: string[] = [];
  if (!(await which('systemd-nspawn'))) missing.push('systemd-container');
  if (!(await which('debootstrap'))) missing.push('debootstrap');
  if (!(await which('timeout'))) return 'no `timeout` (coreutils) on this machine';
  if (missing.length === 0) return undefined;
  log(`installing ${missing.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { timeoutMs: 300_000, env });
  if (r.code !== 0) {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000, env });
    r = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { timeoutMs: 300_000, env });
  }
  if (r.code !== 0) return `apt-get install ${missing.join(' ')} failed: ${tail(r.out, 3)}`;
  return undefined;
}

/** The Debian mirror apt uses on this host (so that debootstrap reaches the same one), if it says. */
function hostMirror(): string | undefined {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+)/gm)) {
      if (/^https?:\/\//.test(m[1]) && !/security/.test(m[1])) return m[1];
    }
  }
  return undefined;
}

/**
 * The cached Debian bookworm tree (debootstrap --variant=minbase), built when missing (~1 min and
 * ~300 MB once per machine). Concurrent runs serialise on a lock directory.
 */
export async function ensureTree(log: (s: string) => void): Promise<{ tree: string; built: boolean; ms: number } | { skip: string }> {
  const started = Date.now();
  const fresh = () => existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, 'utf8') === STAMP;
  if (fresh()) return { tree: TREE, built: false, ms: 0 };
  mkdirSync(CACHE_DIR, { recursive: true, mode: 0o755 });
  const lock = join(CACHE_DIR, 'build.lock');
  for (let waited = 0; ; waited += 1000) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // being created
      }
      let alive = false;
      try {
        if (holder > 0) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      let age = Infinity;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        // just released
      }
      if ((!alive && age > 5_000) || waited > 600_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 1000));
      if (fresh()) return { tree: TREE, built: false, ms: Date.now() - started };
    }
  }
  try {
    if (fresh()) return { tree: TREE, built: false, ms: Date.now() - started };
    const staging = `${TREE}.new-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    const mirror = hostMirror();
    log(`debootstrap --variant=minbase --include=${TREE_PACKAGES.join(',')} bookworm ${staging} ${mirror ?? '(default mirror)'}`);
    const r = await run('debootstrap', ['--variant=minbase', `--include=${TREE_PACKAGES.join(',')}`, 'bookworm', staging, ...(mirror ? [mirror] : [])], { timeoutMs: 600_000 });
    if (r.code !== 0) {
      rmSync(staging, { recursive: true, force: true });
      return { skip: `debootstrap of Debian bookworm failed (exit ${r.code ?? r.signal}): ${tail(r.out, 4)}` };
    }
    // Trimmed: the package cache is not needed at run time.
    rmSync(join(staging, 'var', 'cache', 'apt', 'archives'), { recursive: true, force: true });
    writeFileSync(join(staging, '.hush-nspawn-tree'), STAMP);
    rmSync(TREE, { recursive: true, force: true });
    renameSync(staging, TREE);
    return { tree: TREE, built: true, ms: Date.now() - started };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Where the checkout and the node binary appear inside the container: fixed paths outside /tmp,
 * /home and /root, which the manager unit's PrivateTmp=/ProtectHome= would hide (a CI checkout may
 * well live there on the host).
 */
export const GUEST_REPO = '/opt/hush';
export const GUEST_NODE = '/opt/hush-node/bin/node';

/** `--bind-ro` options for the checkout, the node binary and every library node links that the tree lacks. */
export async function guestBinds(tree: string, repo: string): Promise<string[]> {
  const binds = [`--bind-ro=${repo}:${GUEST_REPO}`, `--bind-ro=${process.execPath}:${GUEST_NODE}`];
  const r = await run('ldd', [process.execPath], { timeoutMs: 10_000 });
  for (const m of r.out.matchAll(/=>\s+(\/\S+)|^\s*(\/\S+)\s+\(/gm)) {
    const lib = m[1] ?? m[2];
    if (!existsSync(join(tree, lib))) binds.push(`--bind-ro=${lib}`);
  }
  return binds;
}

export interface BootOptions {
  tree: string;
  /** Host directory bound read-write at /hush-run. */
  runDir: string;
  /** Unit file (host path) bound at /etc/systemd/system/<unitName> and started at boot. */
  unitFile: string;
  unitName: string;
  /** Extra nspawn options (binds). */
  extra: string[];
  timeoutSec: number;
}

/** PIDs of the processes whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(marker)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Boots the tree once, with one unit wanted at boot; resolves when the container has powered off (or
 * was killed). A SIGKILLed nspawn leaves its container running (its init is reparented): the init's
 * command line carries a marker of this boot, and whatever still carries it afterwards is SIGKILLed
 * (init is PID 1 of the container's PID namespace: the whole container goes with it).
 */
export async function boot(o: BootOptions): Promise<RunResult & { leftovers: number }> {
  const marker = `hush.nspawn.boot=${randomUUID()}`;
  const args = [
    '--kill-after=10', String(o.timeoutSec),
    'systemd-nspawn', '--quiet', '-D', o.tree,
    '--register=no', '--keep-unit', '--boot',
    '--volatile=overlay', '--private-network',
    `--machine=hush-systemd-${process.pid}`,
    '--bind=/dev/fuse',
    `--bind=${o.runDir}:/hush-run`,
    `--bind-ro=${o.unitFile}:/etc/systemd/system/${o.unitName}`,
    ...o.extra,
    `systemd.wants=${o.unitName}`,
    marker,
  ];
  const r = await run('timeout', args, { timeoutMs: (o.timeoutSec + 20) * 1000 });
  let leftovers = 0;
  for (let i = 0; i < 50; i++) {
    const pids = processesWith(marker);
    if (pids.length === 0) break;
    leftovers = Math.max(leftovers, pids.length);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  if (processesWith(marker).length > 0) throw new Error(`the container of ${o.unitName} (${marker}) could not be killed`);
  return { ...r, leftovers };
}

/** A boot that only proves nspawn can boot the tree here: its unit writes a file and powers off. */
export async function probeBoot(tree: string, runDir: string, extra: string[]): Promise<string | undefined> {
  const unit = join(runDir, 'hush-probe.service');
  writeFileSync(unit, `[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo ok > /hush-run/probe-ok; ${GUEST_NODE} -v >> /hush-run/probe-ok 2>&1'\nExecStopPost=/bin/systemctl poweroff --no-block\n`);
  const r = await boot({ tree, runDir, unitFile: unit, unitName: 'hush-probe.service', extra, timeoutSec: 60 });
  const ok = join(runDir, 'probe-ok');
  const text = existsSync(ok) ? readFileSync(ok, 'utf8') : '';
  rmSync(ok, { force: true });
  if (!text.startsWith('ok')) return `systemd-nspawn could not boot the tree (exit ${r.code ?? r.signal}): ${tail(r.out, 6)}`;
  if (!/^v\d+/m.test(text)) return `the container boots but cannot run the host's node binary (${process.execPath}): ${tail(text, 3)}`;
  return undefined;
}

/** The scenario's KEY=VALUE lines (a key written twice: the last value). */
export function parseResults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

