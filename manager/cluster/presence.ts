// The managers of the cluster and which of them answer. Each manager writes its own record
// (/managers/<id>) at start and, when the store is shared with other managers, rewrites it every
// PRESENCE_MS. Every manager notes, on its own clock, when it last saw each record change: a
// manager not seen for MISSED periods is unreachable (no clock is compared across machines).
import { hostname } from 'node:os';
import type { Store } from '../store/store.js';
import type { ClusterView } from '../state/view.js';
import { encode, keys, type ManagerRecord } from '../state/records.js';
import type { Logger } from '../../common/log.js';
import { VERSION } from '../../common/version.js';

export const PRESENCE_MS = 1000;
const MISSED = 3;
/** Every manager rewrites its record each PRESENCE_MS, so a view of a shared store hears from it at
 *  least that often: silent for this long, the manager has lost the store (no quorum, or cut off). */
export const STORE_SILENCE_MS = MISSED * PRESENCE_MS;

export interface ManagerState extends ManagerRecord {
  reachable: boolean;
}

export class ManagerPresence {
  private readonly seenAt = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private writing = false;
  /** Set once the record was first written: a record deleted after that is not put back. */
  private started = false;
  private lastSet = '';
  private readonly setListeners = new Set<(addrs: string[]) => void>();

  /**
   * @param shared whether other managers use the store (etcd): only then is the record rewritten
   * @param onRemoved called once if this manager's record is deleted (`hush manager rm`)
   */
  constructor(private readonly store: Store, private readonly view: ClusterView, readonly managerId: string,
    public addr: string, private readonly shared: boolean, private readonly log: Logger,
    private readonly onRemoved: () => void) {}

  async start(): Promise<void> {
    const now = Date.now();
    for (const m of this.view.managers.values()) if (m.heartbeatAtMs) this.seenAt.set(m.id, now); // a full grace at start
    await this.write();
    this.unsubscribe = this.view.onChange((changes) => {
      let changed = false;
      for (const c of changes) {
        if (c.kind !== 'manager') continue;
        changed = true;
        // A heartbeat is a new heartbeatAtMs; 0 is a joined manager that has not run yet.
        if (c.after && c.after.heartbeatAtMs && c.after.heartbeatAtMs !== c.before?.heartbeatAtMs) this.seenAt.set(c.id, Date.now());
        else if (c.after) continue;
        else {
          this.seenAt.delete(c.id);
          if (c.id === this.managerId) this.onRemoved();
        }
      }
      if (changed) this.publish();
    });
    if (this.shared) {
      this.timer = setInterval(() => {
        void this.write();
        this.publish(); // reachability changes with time too
      }, PRESENCE_MS);
      this.timer.unref();
    }
    this.publish();
  }

  /** The TLS port is listening at `addr` (its real port, when it was asked for port 0). */
  listening(addr: string): void {
    if (addr === this.addr) return;
    this.addr = addr;
    void this.write();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /**
   * When this manager last saw that one alive (local clock), however long ago; undefined if never.
   * (Node liveness counts its grace from it: a node held by a manager that stopped answering 3 s ago
   * has had 3 s of its grace, not all of it.)
   */
  seen(managerId: string): number | undefined {
    if (managerId === this.managerId) return Date.now();
    return this.seenAt.get(managerId);
  }

  /** Whether that manager was seen alive within the last MISSED periods. */
  reachable(managerId: string): boolean {
    const at = this.seen(managerId);
    return at !== undefined && Date.now() - at <= MISSED * PRESENCE_MS;
  }

  list(): ManagerState[] {
    return [...this.view.managers.values()]
      .map((m) => ({ ...m, reachable: this.reachable(m.id) }))
      .sort((a, b) => a.addr.localeCompare(b.addr) || a.id.localeCompare(b.id));
  }

  /** Calls back with the addresses of the reachable managers whenever that set changes (and at once). */
  onSetChange(listener: (addrs: string[]) => void): () => void {
    this.setListeners.add(listener);
    if (this.lastSet) listener(JSON.parse(this.lastSet) as string[]);
    return () => this.setListeners.delete(listener);
  }

  private publish(): void {
    // A wildcard address (0.0.0.0:4242) names no host to dial: it is listed, never announced.
    const dialable = (addr: string) => !/^(0\.0\.0\.0|\[::\]|::):/.test(addr);
    const addrs = [...new Set(this.list().filter((m) => m.reachable && dialable(m.addr)).map((m) => m.addr))].sort();
    const set = JSON.stringify(addrs);
    if (set === this.lastSet) return;
    this.lastSet = set;
    for (const l of [...this.setListeners]) l(addrs);
  }

  private async write(): Promise<void> {
    if (this.writing) return; // a slow store: skip a beat rather than queue them
    this.writing = true;
    try {
      const before = this.view.managers.get(this.managerId);
      const now = Date.now();
      const record: ManagerRecord = {
        id: this.managerId, addr: this.addr, hostname: before?.hostname ?? hostname(), version: VERSION,
        joinedAtMs: before?.joinedAtMs ?? now, heartbeatAtMs: now,
      };
      // Compared with the view: a record removed by `manager rm` is not put back.
      const modRev = this.view.modRev(keys.manager(this.managerId));
      if (!modRev && before === undefined && this.started) return;
      await this.store.txn([{ key: keys.manager(this.managerId), modRev }], [{ type: 'put', key: keys.manager(this.managerId), value: encode(record) }]);
      this.started = true;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot record this manager\'s presence');
    } finally {
      this.writing = false;
    }
  }
}
