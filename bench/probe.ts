// The main thread's side of bench/probe-worker.ts: a worker thread polling files in tight loops.
// start() sends one request and returns two promises: `polling` (the loop is running, so a
// change from now on will be seen) and `done` (the loop's result). One request at a time.
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { onCleanup } from './harness.js';
import type { ProbeAnswer, ProbeRequest } from './probe-worker.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'probe-worker.js');

export interface ProbeResult {
  /** Absolute ms (performance.timeOrigin + now()): end of the decisive system call. */
  t: number;
  /** Its start: the change happened before `t`, and (for gone/readable) after the previous attempt's start. */
  tBefore: number;
  attempts: number;
  /** 'new-file': the directory entry found. */
  found?: string;
  /** 'gone': the error of the failing open(). */
  code?: string;
  /** 'read-all': sha256 (hex) of each file. */
  hashes?: string[];
}

type Request = ProbeRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** Absolute time in ms, comparable with the worker's. */
export const clock = () => performance.timeOrigin + performance.now();

export class Probe {
  private worker = new Worker(WORKER);
  private nextId = 1;
  private waiting = new Map<number, { polling: () => void; done: (r: ProbeResult) => void; fail: (e: Error) => void }>();
  private failed?: Error;
  readonly close: () => Promise<void>;

  constructor() {
    this.worker.on('message', (a: ProbeAnswer) => {
      const w = this.waiting.get(a.id);
      if (!w) return;
      if ('polling' in a) return w.polling();
      this.waiting.delete(a.id);
      if ('error' in a) w.fail(new Error(a.error));
      else w.done(a);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', () => this.failAll(new Error('probe worker exited')));
    this.worker.unref();
    this.close = onCleanup('probe worker', async () => {
      // A worker blocked in a system call on a dead mount would not stop; its thread is unref'd.
      await Promise.race([this.worker.terminate(), new Promise((r) => setTimeout(r, 2000))]);
    });
  }

  private failAll(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiting.values()) w.fail(e);
    this.waiting.clear();
  }

  start(req: Request): { polling: Promise<void>; done: Promise<ProbeResult> } {
    if (this.failed) {
      const p = Promise.reject(this.failed);
      return { polling: p, done: p };
    }
    const id = this.nextId++;
    let polling!: () => void;
    let fail!: (e: Error) => void;
    const pollingP = new Promise<void>((resolve, reject) => { polling = resolve; fail = reject; });
    const done = new Promise<ProbeResult>((resolve, reject) => {
      this.waiting.set(id, {
        polling,
        done: (r) => { polling(); resolve(r); },
        fail: (e) => { fail(e); reject(e); },
      });
    });
    // Whoever awaits only one of the two must not get an unhandled rejection from the other.
    pollingP.catch(() => {});
    done.catch(() => {});
    this.worker.postMessage({ ...req, id });
    return { polling: pollingP, done };
  }

  /** start() and wait for the result. */
  run(req: Request): Promise<ProbeResult> {
    return this.start(req).done;
  }
}
