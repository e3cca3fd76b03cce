// Counts the copies of a byte string in another process's memory, as an attacker with root (or
// ptrace rights) would find them: every readable mapping in /proc/PID/maps, read through
// /proc/PID/mem. Needs root; the process is not stopped (a copy in flux may be missed or counted
// twice, so callers look for none, not for an exact number).
import { openSync, readSync, closeSync, readFileSync } from 'node:fs';

interface Region { start: number; end: number; what: string }

function readableRegions(pid: number): Region[] {
  const regions: Region[] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (!m || m[3][0] !== 'r') continue;
    const what = m[4];
    // Kernel-provided pages hold no process data and some refuse reads.
    if (what === '[vvar]' || what === '[vsyscall]' || what === '[vdso]') continue;
    regions.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), what });
  }
  return regions;
}

export interface Found { count: number; where: string[] }

/** The places where `needle` occurs in process `pid`'s readable memory. */
export function findInMemory(pid: number, needle: Buffer): Found {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const where: string[] = [];
  const chunkSize = 8 << 20;
  const chunk = Buffer.alloc(chunkSize + needle.length);
  try {
    for (const r of readableRegions(pid)) {
      let carry = 0; // bytes kept from the previous chunk so a match across the boundary is found
      for (let at = r.start; at < r.end; at += chunkSize) {
        const want = Math.min(chunkSize, r.end - at);
        let got: number;
        try {
          got = readSync(fd, chunk, carry, want, at);
        } catch {
          break; // a mapping that cannot be read (guard pages, device memory): no data of the process
        }
        const filled = carry + got;
        for (let i = chunk.indexOf(needle, 0); i !== -1 && i + needle.length <= filled; i = chunk.indexOf(needle, i + 1)) {
          where.push(`${(at - carry + i).toString(16)} ${r.what || '[anon]'}`);
        }
        carry = Math.min(needle.length - 1, filled);
        chunk.copy(chunk, 0, filled - carry, filled);
        chunk.fill(0, carry);
        if (got < want) break;
      }
    }
  } finally {
    closeSync(fd);
    chunk.fill(0);
  }
  return { count: where.length, where };
}
