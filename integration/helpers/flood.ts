// Plain TCP connections that never start TLS, for the flood tests (integration/flood.test.ts and
// cli-unreachable.test.ts): loopback only, from source addresses 127.0.0.2 and up.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from './manager.js';

const FLOOD_FIXTURE = join(REPO_ROOT, 'dist', 'integration', 'fixtures', 'tcp-flood.js');

/** `n` loopback source addresses: 127.0.0.2, 127.0.0.3, ... */
function floodSources(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

/**
 * One plain TCP connection from `localAddress` that sends nothing: resolves with how long the
 * manager took to close it; fails if it is still open after `deadlineMs`.
 */
export function silentConnection(port: number, localAddress: string, deadlineMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    let since = 0;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`a silent connection from ${localAddress} was still open after ${deadlineMs} ms`));
    }, deadlineMs);
    s.on('error', () => {});
    s.on('data', () => {});
    s.once('connect', () => { since = Date.now(); });
    s.once('close', () => {
      clearTimeout(timer);
      if (!since) reject(new Error(`the connection from ${localAddress} never connected`));
      else resolve(Date.now() - since);
    });
  });
}

export interface FloodCounts { open: number; opened: number; closed: number; failed: number }

/** The tcp-flood fixture: `perSource` connections from each of `sources` addresses, re-opened 1 s after each close. */
export function startFlood(port: number, sources: number, perSource: number): { proc: ChildProcess; counts: () => FloodCounts; stop: () => Promise<FloodCounts> } {
  const proc = spawn(process.execPath, [FLOOD_FIXTURE, String(port), floodSources(sources).join(','), String(perSource), '1000', '180000'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let last: FloodCounts = { open: 0, opened: 0, closed: 0, failed: 0 };
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      last = JSON.parse(buf.slice(0, nl)) as FloodCounts;
      buf = buf.slice(nl + 1);
    }
  });
  const exited = new Promise<void>((r) => proc.once('close', () => r()));
  return {
    proc,
    counts: () => last,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.stdin!.end();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(kill);
      }
      return last;
    },
  };
}

