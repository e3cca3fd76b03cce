// A reader looping on a file of a mount (the child program integration/fixtures/read-loop.ts): what
// an application re-reading its secret sees through a failover. Every loop started here is SIGKILLed
// by killReadLoops() or, as a last resort, at exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './manager.js';
import { followJsonLines } from './json-lines.js';

export interface ReadLoopReport {
  /** Successful open + read + close rounds. */
  reads: number;
  /** Failed rounds, by error code. */
  errors: Record<string, number>;
  /** Rounds whose content differed from the first round's. */
  changed: number;
  firstError?: { code: string; atMs: number };
}

export interface ReadLoop {
  /** The counts so far (the loop goes on). */
  report(): Promise<ReadLoopReport>;
  /** Ends the loop; the final counts. */
  stop(): Promise<ReadLoopReport>;
}

const READ_LOOP = join(REPO_ROOT, 'dist', 'integration', 'fixtures', 'read-loop.js');
const loops = new Set<ChildProcess>();

/** Starts a child that reads `path` whole every `intervalMs`; a command unanswered within timeoutMs fails. */
export function startReadLoop(path: string, intervalMs = 5, timeoutMs = 10_000): ReadLoop {
  const p = spawn(process.execPath, [READ_LOOP, path, String(intervalMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
  loops.add(p);
  p.once('exit', () => loops.delete(p));
  p.stdin.on('error', () => {});
  let err = '';
  const waiting: Array<(r: ReadLoopReport) => void> = [];
  p.stderr.setEncoding('utf8');
  p.stderr.on('data', (s: string) => { err += s; });
  followJsonLines(p.stdout, (line) => waiting.shift()?.(line as unknown as ReadLoopReport));
  const ask = (cmd: string) => new Promise<ReadLoopReport>((resolve, reject) => {
    if (p.exitCode !== null || p.signalCode !== null) return reject(new Error(`read loop on ${path} has exited; stderr: ${err}`));
    const timer = setTimeout(() => {
      p.kill('SIGKILL'); // blocked in a read: a wedged mount
      reject(new Error(`read loop on ${path}: no answer to ${cmd} within ${timeoutMs} ms (blocked in a read?); stderr: ${err}`));
    }, timeoutMs);
    waiting.push((r) => { clearTimeout(timer); resolve(r); });
    p.stdin.write(`${cmd}\n`);
  });
  return {
    report: () => ask('report'),
    stop: async () => {
      const r = await ask('stop');
      p.stdin.end();
      return r;
    },
  };
}

/** SIGKILLs every read loop still running. */
export function killReadLoops(): void {
  for (const p of loops) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  loops.clear();
}
process.once('exit', killReadLoops);
