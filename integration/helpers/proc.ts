// Child processes for the integration tests: every command runs with a timeout, so a wedged FUSE
// daemon never hangs the test runner (the test process reads the mounts only through these, or
// fs.promises). And the /proc scan for a process's children.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion (SIGKILL after timeoutMs, reported as timedOut). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (s: string) => { err += s; });
    p.stdin.on('error', () => {});
    const timer = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, opts.timeoutMs ?? 10_000);
    p.once('error', (e) => { clearTimeout(timer); rej(e); });
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** `sh -c SCRIPT` (optionally as another user via setpriv). */
export function sh(script: string, as?: { uid: number; gid: number }): Promise<RunResult> {
  if (!as) return run('sh', ['-c', script]);
  return run('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', 'sh', '-c', script]);
}

/** `cat FILE` in a child process (optionally as another user). */
export function catFile(path: string, as?: { uid: number; gid: number }): Promise<RunResult> {
  if (!as) return run('cat', [path]);
  return run('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', 'cat', path]);
}

export interface StatResult {
  uid: number;
  gid: number;
  mode: number;
  size: number;
  type: string;
}

/** `stat FILE` in a child process: the fields, or the error line. */
export async function statFile(path: string, as?: { uid: number; gid: number }): Promise<StatResult | { error: string }> {
  const args = ['-c', '%u %g %a %s %F', path];
  const r = as ? await run('setpriv', [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', 'stat', ...args]) : await run('stat', args);
  if (r.code !== 0) return { error: r.stderr.trim() || `exit ${r.code}` };
  const [uid, gid, mode, size, ...type] = r.stdout.toString().trim().split(' ');
  return { uid: Number(uid), gid: Number(gid), mode: parseInt(mode, 8), size: Number(size), type: type.join(' ') };
}

/** `ls -A DIR` in a child process: the names, or the error line. */
export async function listDir(path: string): Promise<string[] | { error: string }> {
  const r = await run('ls', ['-A', '-1', path]);
  if (r.code !== 0) return { error: r.stderr.trim() || `exit ${r.code}` };
  return r.stdout.toString().split('\n').filter((l) => l !== '').sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The pids whose parent is `ppid` (from /proc/PID/stat). */
export async function childPids(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses; it ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === ppid) out.push(Number(name));
  }
  return out;
}
