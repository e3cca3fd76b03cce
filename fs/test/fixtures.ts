// Shared by the FUSE engines' tests (fs/engines/fuse-native.test.ts; fs/engines/native.test.ts):
// temporary mount points, fixtures for NodeSecrets, child processes that read the mount.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { NodeSecrets, NodeTask, SecretFileRef, SecretPayload } from '../../agent/secrets/node-secrets.js';
import type { MountedSecrets } from '../mount.js';
import { isUnder, readMountInfo } from '../mountinfo.js';
import { waitUntil } from '../../common/testing/wait.js';

export const T1 = 1_700_000_000_123;

const tempDirs: string[] = [];
const liveMounts = new Set<MountedSecrets>();

export async function tempMountPoint(nested = false): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'hush-fs-test-'));
  await fsp.chmod(dir, 0o755); // other uids must reach the mount point
  tempDirs.push(dir);
  return nested ? join(dir, 'a', 'b', 'secrets') : join(dir, 'secrets');
}

/** Mounts with the given engine's mount function and remembers the mount for cleanup(). */
export async function trackedMount<M extends MountedSecrets>(mountFn: (mp: string, s: NodeSecrets) => Promise<M>, mp: string, secrets: NodeSecrets): Promise<M> {
  const m = await mountFn(mp, secrets);
  liveMounts.add(m);
  return m;
}

export async function unmount(m: MountedSecrets): Promise<void> {
  await m.unmount();
  liveMounts.delete(m);
}

export async function cleanup(): Promise<void> {
  for (const m of liveMounts) await m.unmount().catch(() => {});
  liveMounts.clear();
  for (const dir of tempDirs.splice(0)) {
    // Only empty directories, and only when nothing is mounted below: never recurse into a mount.
    const busy = (await readMountInfo()).some((m) => m.mountPoint === dir || isUnder(m.mountPoint, dir));
    if (busy) continue;
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

export function ref(secretId: string, version: number, target: string, extra: Partial<SecretFileRef> = {}): SecretFileRef {
  return { secretId, secretName: `name-${secretId}`, version, target, uid: 0, gid: 0, mode: 0o400, ...extra };
}
export function task(id: string, name: string, serviceName: string, files: SecretFileRef[]): NodeTask {
  return { id, name, serviceName, files };
}
export function payload(id: string, version: number, data: Buffer | string, createdAtMs = T1 + version): SecretPayload {
  return { id, name: `name-${id}`, version, data: typeof data === 'string' ? Buffer.from(data) : data, createdAtMs };
}

export async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A child process (node, unless `command` says otherwise) whose stdout is read line by line. */
export class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiters: Array<(line: string) => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';

  constructor(args: string[], env: NodeJS.ProcessEnv = process.env, command = process.execPath) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  next(timeoutMs = 10_000): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output from child within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push((l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
  }

  async json(timeoutMs?: number): Promise<Record<string, unknown>> {
    return JSON.parse(await this.next(timeoutMs)) as Record<string, unknown>;
  }

  send(line: string): void {
    this.proc.stdin.write(line + '\n');
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** waitUntil (common/testing/wait.ts) for a yes/no condition, with the engine tests' shorter default. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  await waitUntil(what, check, timeoutMs, { intervalMs: 20 });
}

/** The fusermount helper libfuse started for `mp` (auto_unmount), if any: its command line. */
export async function fusermountHelperFor(mp: string): Promise<string | undefined> {
  for (const pid of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
      if (cmdline.includes('fusermount') && cmdline.includes(mp)) return cmdline;
    } catch {
      // the process is gone
    }
  }
  return undefined;
}


