// The TLS port's connection limits, sized from the process's descriptor limit (RLIMIT_NOFILE).
import { readFileSync } from 'node:fs';
import type { ConnectionLimits } from './connection-gate.js';

/** Descriptors the manager needs for itself whatever the load (store, WAL, logs, listeners, libuv). */
const BASE_DESCRIPTORS = 64;

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_ANONYMOUS_MAX_AGE_MS = 30_000;

/** RLIMIT_NOFILE (soft, hard) of this process, from /proc/self/limits ("unlimited" as Infinity). */
export function descriptorLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) throw new Error('cannot read the open files limit from /proc/self/limits');
  const num = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m[1]), hard: num(m[2]) };
}

/**
 * Half the descriptors (less the base) may be held by peers without a certificate: three quarters of
 * that by connections still in their TLS handshake, a quarter by anonymous TLS connections; one source
 * address may hold a sixteenth of each cap (at least a few, at most 256 pending / 32 anonymous). The
 * other half is the reserve for the control socket and for nodes with a certificate.
 */
export function defaultLimits(nofile: number): ConnectionLimits {
  const usable = Math.min(Number.isFinite(nofile) ? nofile : 1 << 20, 1 << 20);
  const budget = Math.max(16, Math.floor((usable - BASE_DESCRIPTORS) / 2));
  const maxPending = Math.floor((budget * 3) / 4);
  const maxAnonymous = budget - maxPending;
  return {
    handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
    maxPending,
    maxPendingPerAddress: Math.max(4, Math.min(256, Math.floor(maxPending / 16))),
    maxAnonymous,
    maxAnonymousPerAddress: Math.max(2, Math.min(32, Math.floor(maxAnonymous / 16))),
    anonymousMaxAgeMs: DEFAULT_ANONYMOUS_MAX_AGE_MS,
  };
}
