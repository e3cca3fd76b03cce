// A reader holding an open descriptor on a mount (the child program integration/fixtures/fd-reader.ts):
// what a descriptor opened before a revocation or a rotation reads after it. Every reader started here
// is SIGKILLed by killReaders() (cleanUpAgents calls it) or, as a last resort, at exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './manager.js';

export interface FdStep {
  step: string;
  len?: number;
  sha256?: string;
  error?: string;
}

export interface FdReader {
  /** The result of the first open + read. */
  first: FdStep;
  /** Reads the same descriptor again, whole. */
  read(): Promise<FdStep>;
  /** Closes the descriptor and ends the process. */
  close(): Promise<void>;
}

const FD_READER = join(REPO_ROOT, 'dist', 'integration', 'fixtures', 'fd-reader.js');
const readers = new Set<ChildProcess>();

/** A child node process that opens `path`, reads it once, and reads it again on request. */
export async function openReader(path: string, timeoutMs = 10_000): Promise<FdReader> {
  const p = spawn(process.execPath, [FD_READER, path], { stdio: ['pipe', 'pipe', 'pipe'] });
  readers.add(p);
  p.once('exit', () => readers.delete(p));
  p.stdin.on('error', () => {});
  let buf = '';
  let err = '';
  const lines: FdStep[] = [];
  const waiting: Array<(s: FdStep) => void> = [];
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (s: string) => { err += s; });
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const step = JSON.parse(buf.slice(0, nl)) as FdStep;
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(step);
      else lines.push(step);
    }
  });
  const next = () => new Promise<FdStep>((res, rej) => {
    const queued = lines.shift();
    if (queued) return res(queued);
    const timer = setTimeout(() => rej(new Error(`fd-reader on ${path}: no answer within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    waiting.push((s) => { clearTimeout(timer); res(s); });
  });
  const first = await next();
  return {
    first,
    read: () => {
      p.stdin.write('read\n');
      return next();
    },
    close: async () => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.stdin.end('close\nexit\n');
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** SIGKILLs every fd-reader still running. */
export function killReaders(): void {
  for (const p of readers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  readers.clear();
}
process.once('exit', killReaders);
