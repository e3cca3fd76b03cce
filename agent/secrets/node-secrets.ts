// The node's secrets, only in memory: the tasks assigned to this node, the secret
// versions they reference, and the open file handles reading them. This is the
// whole state the FUSE view (fs/) reads; the agent's manager connection writes it.
//
// Guarantees the view relies on:
//  - a task or reference removed here is gone for every later lookup, and every
//    handle opened through it fails its next read (revocation);
//  - a handle reads the version it opened, whole, even after a newer version
//    replaces it (rotation), and that old version is zeroed and dropped once its
//    last handle is released;
//  - payload buffers are overwritten with zeros when dropped.

import { versionKey, type HandleSource, type Lookup, type NodeTask, type SecretFileRef, type TaskSource, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot, type ViewSource } from '../../fs/view.js';
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

/** One version in memory, shared by the references and handles that use it. */
class Held {
  handles = 0;
  referenced = true;
  constructor(readonly payload: SecretPayload) {}
  get dropped(): boolean {
    return this.payload.data.length === 0;
  }
  release(): void {
    if (this.handles === 0 && !this.referenced && !this.dropped) {
      this.payload.data.fill(0);
      this.payload.data = Buffer.alloc(0);
    }
  }
}

interface Handle {
  taskId: string;
  incarnation: number;
  target: string;
  held: Held;
  revoked: boolean;
}

const MAX_HANDLE = 0x7fffffff;

export class NodeSecrets implements ProjectedState, ViewSource, HandleSource, TaskSource {
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
  /** Versions no longer in `versions` (removed or replaced) but still read by open handles. */
  private retired = new Set<Held>();
  private handles = new Map<number, Handle>();
  /** Task id → its open handles (a change looks only at the handles of the tasks it touched). */
  private handlesByTask = new Map<string, Set<number>>();
  private nextHandle = 1;
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

  /** Called after every change, with what changed in the view (for the native engine, status reporting). */
  onChange(listener: (delta: ViewDelta) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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

  get openHandles(): number {
    return this.handles.size;
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

  // ---- fuse-native's handles ----

  /** Opens the file's current version; the handle reads that version until released or revoked. */
  open(path: string): number | undefined {
    const found = this.lookup(path);
    if (!found || found.kind !== 'file') return undefined;
    const held = this.versions.get(versionKey(found.ref.secretId, found.ref.version))!;
    held.handles++;
    const fd = this.allocHandle();
    const taskId = found.task.id;
    this.handles.set(fd, { taskId, incarnation: this.incarnations.get(taskId)!, target: found.ref.target, held, revoked: false });
    addTo(this.handlesByTask, taskId, fd);
    return fd;
  }

  /** Bytes of the handle's version, or 'revoked' / 'bad-handle'. */
  read(fd: number, position: number, length: number): Buffer | 'revoked' | 'bad-handle' {
    const h = this.handles.get(fd);
    if (!h) return 'bad-handle';
    if (h.revoked) return 'revoked';
    const data = h.held.payload.data;
    return data.subarray(Math.min(position, data.length), Math.min(position + length, data.length));
  }

  release(fd: number): void {
    const h = this.handles.get(fd);
    if (!h) return;
    this.handles.delete(fd);
    removeFrom(this.handlesByTask, h.taskId, fd);
    if (!h.revoked) this.unhold(h.held);
  }

  /** Zeroes and drops everything (agent shutdown). */
  wipe(): void {
    this.replaceAll([], []);
  }

  // ---- internals: a change costs what it touches ----

  private change(c: ViewChanges, upserts: NodeTask[], removeIds: string[], addSecrets: SecretPayload[], removeSecrets: Array<{ id: string; version: number }>): void {
    for (const s of addSecrets) this.addVersion(s, c);
    for (const t of upserts) this.upsertTask(t, c);
    for (const id of removeIds) this.removeTask(id, c);
    for (const s of removeSecrets) this.dropVersion(versionKey(s.id, s.version), c);
    const delta = this.projection.delta(c);
    this.revokeStaleHandles(c.before.keys());
    for (const l of this.listeners) l(delta);
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
    if (old && sameTask(old, next)) return;
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

  /** A handle is revoked once its task (this incarnation) or its reference to that secret is gone. */
  private revokeStaleHandles(taskIds: Iterable<string>): void {
    for (const id of taskIds) {
      for (const fd of this.handlesByTask.get(id) ?? []) {
        const h = this.handles.get(fd)!;
        if (h.revoked) continue;
        const task = this.tasks.get(h.taskId);
        const alive = task && this.incarnations.get(h.taskId) === h.incarnation
          && task.files.some((f) => f.target === h.target && f.secretId === h.held.payload.id);
        if (alive) continue;
        h.revoked = true;
        this.unhold(h.held);
      }
    }
  }

  /** One handle fewer on `held`: zeroed and forgotten if that was the last use of a dropped version. */
  private unhold(held: Held): void {
    held.handles--;
    held.release();
    if (held.dropped) this.retired.delete(held);
  }

  /**
   * A handle number for fuse-native, which passes it through an int32 (and treats 0 as "no handle"):
   * 1 .. 2^31-1, wrapping around, skipping numbers still in use.
   */
  private allocHandle(): number {
    for (;;) {
      const fd = this.nextHandle;
      this.nextHandle = fd >= MAX_HANDLE ? 1 : fd + 1;
      if (!this.handles.has(fd)) return fd;
    }
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
function sameTask(a: NodeTask, b: NodeTask): boolean {
  return a.name === b.name && a.serviceName === b.serviceName && a.files.length === b.files.length
    && a.files.every((f, i) => sameRef(f, b.files[i]));
}

function sameRef(a: SecretFileRef, b: SecretFileRef): boolean {
  return a.secretId === b.secretId && a.secretName === b.secretName && a.version === b.version && a.target === b.target
    && a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
}

