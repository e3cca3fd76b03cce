// The manager's in-memory view of the cluster, built by list-then-follow over the
// store's change feed (like Kubernetes' watch cache). Readers use it synchronously;
// writers go through the store and see their write here once it is committed.
import { CompactedError, type Change, type Store } from '../store/store.js';
import {
  decode, keys, type DeniedCertRecord, type LeaderRecord, type ManagerRecord, type NodeRecord, type SecretRecord,
  type ServiceRecord, type SessionRecord, type TaskRecord,
} from './records.js';

type Kinds = {
  secret: SecretRecord;
  service: ServiceRecord;
  task: TaskRecord;
  node: NodeRecord;
  denied: DeniedCertRecord;
  manager: ManagerRecord;
  session: SessionRecord;
  leader: LeaderRecord;
};
export type Kind = keyof Kinds;

/** One record changed: `before` absent = created, `after` absent = deleted. */
export type ViewChange = { [K in Kind]: { kind: K; id: string; before?: Kinds[K]; after?: Kinds[K] } }[Kind];

const PREFIXES: Array<[string, Kind]> = [
  [keys.secretsPrefix, 'secret'],
  [keys.servicesPrefix, 'service'],
  [keys.tasksPrefix, 'task'],
  [keys.nodesPrefix, 'node'],
  [keys.deniedCertsPrefix, 'denied'],
  [keys.managersPrefix, 'manager'],
  [keys.sessionsPrefix, 'session'],
  [keys.leader, 'leader'], // one key: its id is ''
];

function classify(key: string): [Kind, string] | undefined {
  for (const [prefix, kind] of PREFIXES) if (key.startsWith(prefix)) return [kind, key.slice(prefix.length)];
  return undefined;
}

export class ClusterView {
  readonly secrets = new Map<string, SecretRecord>();
  readonly services = new Map<string, ServiceRecord>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly nodes = new Map<string, NodeRecord>();
  readonly denied = new Map<string, DeniedCertRecord>();
  readonly managers = new Map<string, ManagerRecord>();
  /** Open node streams by node id, on whichever manager. */
  readonly sessions = new Map<string, SessionRecord>();
  /** Holds at most '' → the scheduler's leader. */
  readonly leader = new Map<string, LeaderRecord>();
  /** Task ids by the node they run on. */
  readonly tasksByNode = new Map<string, Set<string>>();
  /** Task ids by their service (also for tasks whose service is gone). */
  readonly tasksByService = new Map<string, Set<string>>();
  /** Service ids by the id of each secret they reference. */
  readonly servicesBySecret = new Map<string, Set<string>>();
  /** Store key → the revision that last wrote it, for compare-and-swap writes. */
  readonly modRevs = new Map<string, number>();
  revision = 0;
  /** When the change feed last delivered changes or progress (local clock). */
  lastHeardAt = Date.now();

  private listeners = new Set<(changes: ViewChange[], revision: number) => void>();
  private waiters: Array<{ revision: number; resolve: () => void }> = [];
  private cancelWatch?: () => void;

  private constructor() {}

  /** @param onError the change feed is lost for good (a compacted history is relisted instead) */
  static async open(store: Store, onError: (e: Error) => void): Promise<ClusterView> {
    const view = new ClusterView();
    const { kvs, revision } = await store.range('');
    for (const kv of kvs) view.apply(kv.key, kv.value, kv.modRev);
    view.revision = revision;
    view.followFrom(store, onError);
    return view;
  }

  private closed = false;

  private followFrom(store: Store, onError: (e: Error) => void): void {
    this.cancelWatch = store.watch(this.revision, (changes) => this.follow(changes), (e) => {
      if (e instanceof CompactedError && !this.closed) this.relist(store, onError);
      else onError(e);
    }, (rev) => this.progress(rev));
  }

  /**
   * The feed fell behind the retained history (a manager cut off from etcd for longer than one
   * compaction interval): list again, hand listeners the difference as one batch, and follow on.
   */
  private relist(store: Store, onError: (e: Error) => void): void {
    store.range('').then(({ kvs, revision }) => {
      if (this.closed) return;
      const out: ViewChange[] = [];
      const present = new Set<string>();
      for (const kv of kvs) {
        present.add(kv.key);
        if (this.modRevs.get(kv.key) === kv.modRev) continue;
        const change = this.apply(kv.key, kv.value, kv.modRev);
        if (change) out.push(change);
      }
      for (const key of [...this.modRevs.keys()]) {
        if (present.has(key)) continue;
        const change = this.apply(key, null, revision);
        if (change) out.push(change);
      }
      this.revision = Math.max(this.revision, revision);
      if (out.length) for (const l of this.listeners) l(out, this.revision);
      this.wake();
      this.followFrom(store, onError);
    }, onError);
  }

  map<K extends Kind>(kind: K): Map<string, Kinds[K]> {
    const maps = {
      secret: this.secrets, service: this.services, task: this.tasks, node: this.nodes, denied: this.denied,
      manager: this.managers, session: this.sessions, leader: this.leader,
    };
    return (maps as unknown as Record<K, Map<string, Kinds[K]>>)[kind];
  }

  /** Listeners run after every committed change batch, in revision order. */
  onChange(listener: (changes: ViewChange[], revision: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the view reflects `revision` (read-your-writes after a txn). */
  waitFor(revision: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ revision, resolve }));
  }

  tasksOnNode(nodeId: string): TaskRecord[] {
    return [...(this.tasksByNode.get(nodeId) ?? [])].map((id) => this.tasks.get(id)!);
  }

  tasksOfService(serviceId: string): TaskRecord[] {
    return [...(this.tasksByService.get(serviceId) ?? [])].map((id) => this.tasks.get(id)!);
  }

  servicesUsing(secretId: string): ServiceRecord[] {
    return [...(this.servicesBySecret.get(secretId) ?? [])].map((id) => this.services.get(id)!);
  }

  serviceByName(name: string): ServiceRecord | undefined {
    for (const s of this.services.values()) if (s.name === name) return s;
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.cancelWatch?.();
  }

  /** The store is at `revision` and every key change up to it has been applied. */
  private progress(revision: number): void {
    this.lastHeardAt = Date.now();
    if (revision <= this.revision) return;
    this.revision = revision;
    this.wake();
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => w.revision <= this.revision);
    this.waiters = this.waiters.filter((w) => w.revision > this.revision);
    for (const w of ready) w.resolve();
  }

  private follow(changes: Change[]): void {
    this.lastHeardAt = Date.now();
    const out: ViewChange[] = [];
    for (const c of changes) {
      const change = this.apply(c.key, c.value, c.revision);
      if (change) out.push(change);
    }
    this.revision = changes[changes.length - 1].revision;
    if (out.length) for (const l of this.listeners) l(out, this.revision);
    this.wake();
  }

  /** The modRev to compare against when rewriting a record (0: absent). */
  modRev(key: string): number {
    return this.modRevs.get(key) ?? 0;
  }

  private apply(key: string, value: Buffer | null, modRev: number): ViewChange | undefined {
    const k = classify(key);
    if (!k) return undefined;
    if (value === null) this.modRevs.delete(key);
    else this.modRevs.set(key, modRev);
    const [kind, id] = k;
    const map = this.map(kind) as Map<string, unknown>;
    const before = map.get(id);
    const after = value === null ? undefined : decode<unknown>(value);
    if (after === undefined) map.delete(id);
    else map.set(id, after);
    if (kind === 'task') this.indexTask(id, before as TaskRecord | undefined, after as TaskRecord | undefined);
    if (kind === 'service') this.indexService(id, before as ServiceRecord | undefined, after as ServiceRecord | undefined);
    return { kind, id, before, after } as ViewChange;
  }

  private indexTask(id: string, before?: TaskRecord, after?: TaskRecord): void {
    if (before?.nodeId) unindex(this.tasksByNode, before.nodeId, id);
    if (after?.nodeId) index(this.tasksByNode, after.nodeId, id);
    if (before) unindex(this.tasksByService, before.serviceId, id);
    if (after) index(this.tasksByService, after.serviceId, id);
  }

  private indexService(id: string, before?: ServiceRecord, after?: ServiceRecord): void {
    for (const ref of before?.secrets ?? []) unindex(this.servicesBySecret, ref.secretId, id);
    for (const ref of after?.secrets ?? []) index(this.servicesBySecret, ref.secretId, id);
  }
}

function index(by: Map<string, Set<string>>, key: string, id: string): void {
  let set = by.get(key);
  if (!set) by.set(key, (set = new Set()));
  set.add(id);
}

function unindex(by: Map<string, Set<string>>, key: string, id: string): void {
  const set = by.get(key);
  set?.delete(id);
  if (set?.size === 0) by.delete(key);
}
