// Reading and checking what the user typed, before anything is sent.
import { MAX_SECRET_BYTES } from '../manager/secrets/validate.js';
import { CliError } from './client.js';
import { isHostPort } from '../common/host-port.js';

const { openSync, fstatSync, readSync, closeSync } = process.getBuiltinModule('node:fs'); // without an ESM facade (see rpc.ts)

/** Reads secret data from FILE, or stdin for '-' / nothing; refuses oversize input without reading it all. */
export function readSecretData(file: string | undefined): Buffer {
  const fromStdin = file === undefined || file === '-';
  if (fromStdin && process.stdin.isTTY) throw new CliError('no secret data: give a FILE, or pipe the data on stdin with -');
  let fd: number;
  try {
    fd = fromStdin ? 0 : openSync(file!, 'r');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    if (!fromStdin) {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new CliError(`cannot read ${file}: it is a directory`);
      if (st.isFile() && st.size > MAX_SECRET_BYTES) throw new CliError(`secret data must be larger than 0 and less than 512000 bytes (${file} has ${st.size})`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        if ((e as NodeJS.ErrnoException).code === 'EOF') break;
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > MAX_SECRET_BYTES) throw new CliError(`secret data must be larger than 0 and less than 512000 bytes (input is larger)`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    buf.fill(0);
    return Buffer.concat(chunks);
  } finally {
    if (!fromStdin) closeSync(fd);
  }
}

/** `k=v` pairs from repeated --label flags. */
export function parseLabels(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    const k = i < 0 ? p : p.slice(0, i);
    if (!k) throw new CliError(`invalid label ${JSON.stringify(p)}: expected key=value`);
    labels[k] = i < 0 ? '' : p.slice(i + 1);
  }
  return labels;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Durations like 90d, 2160h, 45m, 5s, 500ms, within [minMs, maxMs]. */
export function parseDuration(text: string, what: string, minMs = 3_600_000, maxMs = 3650 * 86_400_000): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]] : NaN;
  if (!Number.isSafeInteger(ms) || ms < minMs || ms > maxMs) {
    throw new CliError(`invalid ${what} ${JSON.stringify(text)}: a duration such as ${minMs >= 3_600_000 ? '90d, 2160h or 120m' : '5s or 500ms'}, between ${human(minMs)} and ${human(maxMs)}`);
  }
  return ms;
}

function human(ms: number): string {
  for (const [u, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % f === 0) return `${ms / f}${u}`;
  return `${ms}ms`;
}

export function parseHostPort(text: string, what: string): string {
  if (!isHostPort(text)) throw new CliError(`invalid ${what} ${JSON.stringify(text)}: expected HOST:PORT`);
  return text;
}

/** A whole number within [min, max] (e.g. a connection cap from the environment). */
export function parseCount(text: string, what: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(n >= min && n <= max)) throw new CliError(`invalid ${what} ${JSON.stringify(text.slice(0, 40))}: a whole number between ${min} and ${max}`);
  return n;
}
