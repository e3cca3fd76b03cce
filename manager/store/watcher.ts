// One watch() of a Store, backend-neutral: the backend pushes committed changes (whole revisions,
// in order) and this delivers them in batches on a microtask, never an empty call, then the
// progress revision; an exception thrown by onChanges ends the watch and goes to onError.
import type { Change } from './store.js';

export class Watcher {
  private queue: Change[] = [];
  private scheduled = false;
  done = false;

  constructor(
    /** Called once the watch ends, to stop feeding it. */
    private readonly drop: (w: Watcher) => void,
    private readonly from: number,
    private readonly onChanges: (changes: Change[]) => void,
    private readonly onError: ((e: Error) => void) | undefined,
    private readonly onProgress?: (revision: number) => void,
  ) {}

  /** The store's revision to report once queued changes are delivered (0: none pending). */
  private progress = 0;

  // Queues changes (in revision order, whole revisions) and schedules their delivery.
  push(changes: Change[], storeRevision = 0): void {
    if (this.done) return;
    for (const c of changes) if (c.revision > this.from) this.queue.push(c);
    if (this.onProgress && storeRevision > this.from) this.progress = Math.max(this.progress, storeRevision);
    if ((this.queue.length > 0 || this.progress > 0) && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.deliver());
    }
  }

  private deliver(): void {
    this.scheduled = false;
    if (this.done) return;
    const batch = this.queue;
    const progress = this.progress;
    this.queue = [];
    this.progress = 0;
    try {
      if (batch.length > 0) this.onChanges(batch);
      if (progress > 0 && !this.done) this.onProgress!(progress);
    } catch (e) {
      this.cancel();
      if (!this.onError) throw e;
      this.onError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  fail(e: Error): void {
    queueMicrotask(() => {
      if (this.done) return;
      this.cancel();
      this.onError?.(e);
    });
  }

  cancel(): void {
    this.done = true;
    this.queue = [];
    this.drop(this);
  }
}
