// One Store watch() on etcd: an etcd watch of the store's watched range (P/w/) that turns each etcd
// revision into one store revision (the counter's event in it names the store revision), resumes
// after a broken stream from the last event's etcd revision + 1 (never the response header's:
// defect 1 of etcd-ha.md), and ends with a CompactedError when etcd says its history is compacted.
import { CompactedError, type Change } from './store.js';
import type { EtcdClient, WatchResponse } from './etcd-rpc.js';
import { decodeCounter, decodeValue, type Layout } from './etcd-layout.js';
import type { Watcher } from './watcher.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

export class EtcdWatch {
  private stream: { cancel(): void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private backoff = RETRY_MIN_MS;
  /** Test hook: how many times the stream was opened (1 + resumes). */
  opens = 0;

  constructor(
    private readonly client: EtcdClient,
    private readonly l: Layout,
    private readonly w: Watcher,
    private readonly from: number,
    /** The etcd revision to start at (next: last event's + 1). */
    private next: number,
    private readonly storeRevAt: (etcdRev: number) => Promise<number>,
    /** Told each store revision this watch has been fed up to. */
    private readonly onFed: (storeRev: number) => void,
  ) {
    this.open();
  }

  private open(): void {
    if (this.stopped || this.w.done) return;
    this.opens++;
    this.stream = this.client.watch(
      { key: this.l.watchStart, rangeEnd: this.l.watchEnd, startRevision: this.next },
      (r) => this.onResponse(r),
      (e) => this.onEnd(e),
    );
  }

  private onResponse(r: WatchResponse): void {
    if (this.stopped || this.w.done) return;
    if (r.canceled) {
      this.stop();
      if (r.compactRevision > 0) {
        const requested = this.from;
        this.storeRevAt(r.compactRevision).then(
          (rev) => this.w.fail(new CompactedError(requested, rev)),
          () => this.w.fail(new CompactedError(requested, requested + 1)),
        );
      } else {
        this.w.fail(new Error(`etcd store: watch canceled by etcd: ${r.cancelReason || 'no reason given'}`));
      }
      return;
    }
    if (r.events.length === 0) return;
    this.backoff = RETRY_MIN_MS;
    // Events of one etcd revision are never split across responses (etcd batches whole revisions).
    const changes: Change[] = [];
    let storeRev = 0;
    let i = 0;
    const evs = r.events;
    while (i < evs.length) {
      const etcdRev = evs[i].kv.modRevision;
      let j = i;
      let rev = 0;
      for (; j < evs.length && evs[j].kv.modRevision === etcdRev; j++) {
        if (evs[j].kv.key.equals(this.l.counter) && evs[j].type === 'PUT') rev = decodeCounter(evs[j].kv.value).rev;
      }
      if (rev > 0) {
        for (let k = i; k < j; k++) {
          const ev = evs[k];
          if (!ev.kv.key.subarray(0, this.l.keyPrefix.length).equals(this.l.keyPrefix)) continue;
          const key = ev.kv.key.subarray(this.l.keyPrefix.length).toString('utf8');
          changes.push({ revision: rev, key, value: ev.type === 'PUT' ? Buffer.from(decodeValue(ev.kv.value).value) : null });
        }
        storeRev = rev;
      }
      this.next = etcdRev + 1;
      i = j;
    }
    if (storeRev > 0) {
      this.w.push(changes, storeRev);
      this.onFed(storeRev);
    }
  }

  // The stream broke (member down, connection reset): open it again from the last event + 1.
  private onEnd(e: Error | null): void {
    this.stream = undefined;
    if (e === null || this.stopped || this.w.done) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, this.backoff);
    this.backoff = Math.min(RETRY_MAX_MS, this.backoff * 2);
  }

  /** The etcd revision the next (re)open starts at. */
  get resumeRevision(): number {
    return this.next;
  }

  /** Test hook: breaks the stream as a failing member would (the watch then resumes). */
  breakStream(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    this.onEnd(new Error('stream broken by test'));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stream?.cancel();
    this.stream = undefined;
  }
}
