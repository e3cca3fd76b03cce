// The node's secrets, only in memory: the tasks assigned to this node and the secret
// versions they reference. This is the whole state the FUSE view (fs/) reads; the
// agent's manager connection writes it. It implements what fs/ reads (fs/view.ts,
// fs/projection.ts); the projection into the mount's tree is fs/projection.ts.
//
// Guarantees the view relies on:
//  - a task or reference removed here is gone for every later lookup, and every
//    binding it served is in that change's ViewDelta.revokedBindings (revocation);
//  - a held version (hold(): an open fuse-native handle) stays whole even after a
//    newer version replaces it (rotation), and that old version is zeroed and
//    dropped once its last hold is released;
//  - payload buffers are overwritten with zeros when dropped.

import { versionKey, type HeldVersion, type Lookup, type NodeTask, type SecretFileRef, type TaskSource, type VersionHolds, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot, type ViewSource } from '../../fs/view.js';
import { ViewChanges, ViewProjection, type NameConflict, type ProjectedState, type SecretVersion } from '../../fs/projection.js';
export { bindingKey, type Lookup, type NodeTask, type SecretFileRef, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot } from '../../fs/view.js';
export type { NameConflict } from '../../fs/projection.js';

export interface SecretPayload {
  id: string;
  name: string;
  version: number;
  data: Buffer;
  createdAtMs: number;
}

/** One version in memory, shared by the references and holds (open handles) that use it. */
class Held {
  holds = 0;
  referenced = true;
  constructor(readonly payload: SecretPayload) {}
  get dropped(): boolean {
    return this.payload.data.length === 0;
  }
  release(): void {
    if (this.holds === 0 && !this.referenced && !this.dropped) {
      this.payload.data.fill(0);
      this.payload.data = Buffer.alloc(0);
    }
  }
}

export class NodeSecrets implements ProjectedState, ViewSource, VersionHolds, TaskSource {
  private tasks = new Map<string, NodeTask>();
  /** Bumped each time a task id is (re)added, so a handle from an earlier life of a task id stays revoked. */
  private incarnations = new Map<string, number>();
  private nextIncarnation = 1;
  private versions = new Map<string, Held>();
  /** Task name → the ids of the tasks with that name (one, unless the manager sent duplicates). */
  private byName = new Map<string, Set<string>>();
  /** Service name → the ids of its tasks here. */
  private byService = new Map<string, Set<string>>();
  /** Version key → the ids of the tasks whose references name it (held or not). */
  private users = new Map<string, Set<string>>();
  /** Versions no longer in `versions` (removed or replaced) but still held (read by open handles). */
  private retired = new Set<Held>();
  private listeners = new Set<(delta: ViewDelta) => void>();
  /** Which task each root name serves, and the tree under them (fs/projection.ts). */
  private readonly projection: ViewProjection;

  /** onConflict: called when a root name becomes claimed by several services (names only, for a log line). */
  constructor(onConflict?: (conflict: NameConflict) => void) {
    this.projection = new ViewProjection(this, onConflict);
  }

  /** Replaces everything (a COMPLETE): whatever is not in it is revoked. */
  replaceAll(tasks: NodeTask[], secrets: SecretPayload[]): void {
    const c = new ViewChanges();
    const keepTasks = new Set(tasks.map((t) => t.id));
    for (const id of [...this.tasks.keys()]) if (!keepTasks.has(id)) this.removeTask(id, c);
    const keepVersions = new Set(secrets.map((s) => versionKey(s.id, s.version)));
    for (const key of [...this.versions.keys()]) if (!keepVersions.has(key)) this.dropVersion(key, c);
    this.change(c, tasks, [], secrets, []);
  }

  /** Applies an INCREMENTAL: secrets added before tasks use them, tasks removed before their secrets. */
  apply(upsertTasks: NodeTask[], removeTaskIds: string[], addSecrets: SecretPayload[], removeSecrets: Array<{ id: string; version: number }> = []): void {
    this.change(new ViewChanges(), upsertTasks, removeTaskIds, addSecrets, removeSecrets);
  }

  /** Called after every change, with what changed in the view (the native engine, the fuse-native handles, the anchors). */
  onChange(listener: (delta: ViewDelta) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The tasks and the versions they use, for a hand-off to a successor (agent/handoff-state.ts);
   *  the payloads are this object's own buffers: copy, never keep. */
  handoffState(): { tasks: NodeTask[]; secrets: SecretPayload[] } {
    return { tasks: this.taskList(), secrets: [...this.versions.values()].filter((h) => !h.dropped).map((h) => h.payload) };
  }

  taskList(): NodeTask[] {
    return [...this.tasks.values()];
  }

  /** Whether a task of this id is on the node. */
  hasTask(id: string): boolean {
    return this.tasks.has(id);
  }

  /**
   * Why a task is not served under its name, or undefined when it is: its name is claimed by several
   * services (NameConflict), or a later task of the same name and service replaced it.
   */
  unservedReason(task: NodeTask): string | undefined {
    return this.projection.unservedReason(task);
  }

  /** The root names claimed by several services now, served by none. */
  nameConflicts(): NameConflict[] {
    return this.projection.nameConflicts();
  }

  /** Versions held in memory, including old ones kept alive by open handles. */
  get heldVersions(): number {
    let n = 0;
    for (const h of this.versions.values()) if (!h.dropped) n++;
    for (const h of this.retired) if (!h.dropped) n++;
    return n;
  }

  // ---- the view (fs/projection.ts) ----

  /** The whole view (see ViewSnapshot). */
  view(): ViewSnapshot {
    return this.projection.view();
  }

  /** The rows of view() for these root names' directories and their files (a name not served has none). */
  rows(rootNames: Iterable<string>): { dirs: ViewDir[]; files: ViewFile[] } {
    return this.projection.rows(rootNames);
  }

  lookup(path: string): Lookup | undefined {
    return this.projection.lookup(path);
  }

  // ---- what the projection reads (ProjectedState) ----

  task(id: string): NodeTask | undefined {
    return this.tasks.get(id);
  }

  incarnation(taskId: string): number | undefined {
    return this.incarnations.get(taskId);
  }

  tasksNamed(name: string): ReadonlySet<string> | undefined {
    return this.byName.get(name);
  }

  tasksOfService(service: string): ReadonlySet<string> | undefined {
    return this.byService.get(service);
  }

  version(key: string): SecretVersion | undefined {
    return this.versions.get(key)?.payload;
  }

  *liveVersions(): Iterable<[string, Buffer]> {
    for (const [key, held] of this.versions) if (!held.dropped) yield [key, held.payload.data];
  }

  // ---- fuse-native's open handles (fs/engines/fuse-native-handles.ts) ----

  /** Keeps a version whole (not zeroed, even once dropped) until the hold is released. */
  hold(key: string): HeldVersion | undefined {
    const held = this.versions.get(key);
    if (!held) return undefined;
    held.holds++;
    let released = false;
    return {
      get data() {
        return held.payload.data;
      },
      release: () => {
        if (released) return;
        released = true;
        this.unhold(held);
      },
    };
  }

  /** Zeroes and drops everything (agent shutdown). */
  wipe(): void {
    this.replaceAll([], []);
    // That revoked every binding, so every hold has been released; a version still held is zeroed anyway.
    for (const held of this.retired) {
      held.payload.data.fill(0);
      held.payload.data = Buffer.alloc(0);
    }
    this.retired.clear();
  }

  // ---- internals: a change costs what it touches ----

  private change(c: ViewChanges, upserts: NodeTask[], removeIds: string[], addSecrets: SecretPayload[], removeSecrets: Array<{ id: string; version: number }>): void {
    for (const s of addSecrets) this.addVersion(s, c);
    for (const t of upserts) this.upsertTask(t, c);
    for (const id of removeIds) this.removeTask(id, c);
    for (const s of removeSecrets) this.dropVersion(versionKey(s.id, s.version), c);
    const delta = this.projection.delta(c);
    // Every listener sees every change (the fuse-native handles revoke in theirs): one that throws
    // does not keep the others from it; the first error is thrown after.
    let failure: { err: unknown } | undefined;
    for (const l of this.listeners) {
      try {
        l(delta);
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  private addVersion(s: SecretPayload, c: ViewChanges): void {
    const key = versionKey(s.id, s.version);
    const existing = this.versions.get(key);
    if (existing && !existing.dropped) {
      // Versions are immutable: keep the one we have and zero the duplicate (unless it is the very
      // buffer we hold, as when a caller passes the same payload objects again).
      if (s.data !== existing.payload.data) s.data.fill(0);
      return;
    }
    const held = new Held({ ...s, data: s.data });
    this.versions.set(key, held);
    c.versions.set(key, held.dropped ? null : held.payload.data);
    this.touchUsers(key, c);
  }

  private dropVersion(key: string, c: ViewChanges): void {
    const held = this.versions.get(key);
    if (!held) return;
    this.versions.delete(key);
    held.referenced = false;
    held.release();
    if (!held.dropped) this.retired.add(held);
    c.versions.set(key, null);
    this.touchUsers(key, c);
  }

  /** The tasks whose references name this version serve other rows now. */
  private touchUsers(key: string, c: ViewChanges): void {
    for (const id of this.users.get(key) ?? []) c.touch(this.tasks.get(id)!);
  }

  private upsertTask(t: NodeTask, c: ViewChanges): void {
    const next = { ...t, files: t.files.filter((f) => this.versions.has(versionKey(f.secretId, f.version))) };
    const old = this.tasks.get(t.id);
    if (old && sameNodeTask(old, next)) return;
    c.remember(t.id, old, this.incarnations.get(t.id));
    if (old) {
      this.unindex(old);
      c.touch(old);
    } else {
      this.incarnations.set(t.id, this.nextIncarnation++);
    }
    this.tasks.set(t.id, next);
    this.index(next);
    c.touch(next);
  }

  private removeTask(id: string, c: ViewChanges): void {
    const old = this.tasks.get(id);
    if (!old) return;
    c.remember(id, old, this.incarnations.get(id));
    this.unindex(old);
    this.tasks.delete(id);
    this.incarnations.delete(id);
    c.touch(old);
  }

  private index(t: NodeTask): void {
    addTo(this.byName, t.name, t.id);
    addTo(this.byService, t.serviceName, t.id);
    for (const f of t.files) addTo(this.users, versionKey(f.secretId, f.version), t.id);
  }

  private unindex(t: NodeTask): void {
    removeFrom(this.byName, t.name, t.id);
    removeFrom(this.byService, t.serviceName, t.id);
    for (const f of t.files) removeFrom(this.users, versionKey(f.secretId, f.version), t.id);
  }

  /** One hold fewer on `held`: zeroed and forgotten if that was the last use of a dropped version. */
  private unhold(held: Held): void {
    held.holds--;
    held.release();
    if (held.dropped) this.retired.delete(held);
  }
}

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/** An upsert that changes nothing the view or the status shows. */
function sameNodeTask(a: NodeTask, b: NodeTask): boolean {
  return a.name === b.name && a.serviceName === b.serviceName && a.files.length === b.files.length
    && a.files.every((f, i) => sameRef(f, b.files[i]));
}

function sameRef(a: SecretFileRef, b: SecretFileRef): boolean {
  return a.secretId === b.secretId && a.secretName === b.secretName && a.version === b.version && a.target === b.target
    && a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
}

