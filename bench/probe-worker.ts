// The file prober of the revoke and deliver benches, run in a worker thread (bench/probe.ts
// starts it): tight loops of synchronous open()/read()/close() on the node's files, so that the
// moment a file appears or vanishes is seen within one system call of it happening. It runs in
// the bench process, never in the agent (the FUSE server) and never on the bench's main thread
// (which drives gRPC and must keep running).
//
// Times are absolute, performance.timeOrigin + performance.now() (ms, sub-µs resolution), the
// same clock the main thread uses for issuing its calls.
//
// Requests (from the main thread) and answers:
//   { id, op: 'readable', path, timeoutMs }   loop open+read+close until a read returns > 0 bytes
//   { id, op: 'gone', path, timeoutMs }       loop open+close until open() fails
//                                             (both: gapMs pauses between attempts; default 0, a tight loop)
//   { id, op: 'new-file', dir, rel, exclude, timeoutMs }
//                                             loop over the entries E of dir not in `exclude` until
//                                             dir/E/rel can be opened and read (Swarm: a new
//                                             container's secret file)
//   { id, op: 'listed', dirs, expect, timeoutMs } loop over readdir() of every dir until each lists
//                                             at least `expect` entries (besides . and ..)
//   { id, op: 'read-all', paths, timeoutMs }  reads every file once; answers sha256 (hex) of each
// Each answers { id, polling: true } once its loop runs (for 'gone': after a first successful
// open, so the file was there), then { id, t, tBefore, attempts, found?, code? } when done:
// t = the end of the decisive system call, tBefore = its start; or { id, error } on timeout.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

export type ProbeRequest =
  | { id: number; op: 'readable'; path: string; timeoutMs: number; gapMs?: number }
  | { id: number; op: 'gone'; path: string; timeoutMs: number; gapMs?: number }
  | { id: number; op: 'new-file'; dir: string; rel: string; exclude: string[]; timeoutMs: number }
  | { id: number; op: 'listed'; dirs: string[]; expect: number; timeoutMs: number }
  | { id: number; op: 'read-all'; paths: string[]; timeoutMs: number };

export type ProbeAnswer =
  | { id: number; polling: true }
  | { id: number; t: number; tBefore: number; attempts: number; found?: string; code?: string; hashes?: string[] }
  | { id: number; error: string };

const now = () => performance.timeOrigin + performance.now();
const buf = Buffer.alloc(4096);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread for ms (0: not at all): a pause between attempts, for diagnosing the loop's own load. */
const pause = (ms: number | undefined) => {
  if (ms) Atomics.wait(sleeper, 0, 0, ms);
};

/** open + one read + close; the byte count, or the error code. */
function tryRead(path: string): number | string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
  try {
    return readSync(fd, buf, 0, buf.length, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  } finally {
    closeSync(fd);
  }
}

/** open + close; undefined if it opened, else the error code. */
function tryOpen(path: string): string | undefined {
  try {
    closeSync(openSync(path, 'r'));
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

function handle(req: ProbeRequest): ProbeAnswer {
  const deadline = now() + req.timeoutMs;
  let attempts = 0;
  let announced = false;
  const announce = () => {
    if (!announced) parentPort!.postMessage({ id: req.id, polling: true } satisfies ProbeAnswer);
    announced = true;
  };
  switch (req.op) {
    case 'readable':
      for (;;) {
        const tBefore = now();
        const r = tryRead(req.path);
        const t = now();
        attempts++;
        if (typeof r === 'number' && r > 0) return { id: req.id, t, tBefore, attempts };
        announce();
        if (t > deadline) return { id: req.id, error: `${req.path} not readable after ${req.timeoutMs} ms (${r})` };
        pause(req.gapMs);
      }
    case 'gone':
      for (;;) {
        const tBefore = now();
        const code = tryOpen(req.path);
        const t = now();
        attempts++;
        if (code !== undefined) {
          if (!announced) return { id: req.id, error: `${req.path} could not be opened to begin with (${code})` };
          return { id: req.id, t, tBefore, attempts, code };
        }
        announce();
        if (t > deadline) return { id: req.id, error: `${req.path} still opens after ${req.timeoutMs} ms` };
        pause(req.gapMs);
      }
    case 'new-file': {
      const exclude = new Set(req.exclude);
      for (;;) {
        const tBefore = now();
        let entries: string[] = [];
        try {
          entries = readdirSync(req.dir);
        } catch { /* not there yet */ }
        for (const e of entries) {
          if (exclude.has(e)) continue;
          const r = tryRead(join(req.dir, e, req.rel));
          if (typeof r === 'number' && r > 0) return { id: req.id, t: now(), tBefore, attempts: attempts + 1, found: e };
        }
        const t = now();
        attempts++;
        announce();
        if (t > deadline) return { id: req.id, error: `no new ${req.rel} under ${req.dir} after ${req.timeoutMs} ms` };
      }
    }
    case 'listed': {
      const done = new Set<string>();
      for (;;) {
        const tBefore = now();
        for (const d of req.dirs) {
          if (done.has(d)) continue;
          try {
            if (readdirSync(d).length >= req.expect) done.add(d);
          } catch { /* not there yet */ }
        }
        const t = now();
        attempts++;
        if (done.size === req.dirs.length) return { id: req.id, t, tBefore, attempts };
        announce();
        if (t > deadline) return { id: req.id, error: `${req.dirs.length - done.size} of ${req.dirs.length} directories not complete after ${req.timeoutMs} ms` };
      }
    }
    case 'read-all': {
      const tBefore = now();
      const hashes = req.paths.map((p) => createHash('sha256').update(readFileSync(p)).digest('hex'));
      return { id: req.id, t: now(), tBefore, attempts: req.paths.length, hashes };
    }
  }
}

parentPort!.on('message', (req: ProbeRequest) => {
  let answer: ProbeAnswer;
  try {
    answer = handle(req);
  } catch (e) {
    answer = { id: req.id, error: (e as Error).message };
  }
  parentPort!.postMessage(answer);
});
