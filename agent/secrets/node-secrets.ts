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

import { bindingKey, dirMode, type HandleSource, type Lookup, type NodeTask, type SecretFileRef, type TaskSource, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot, type ViewSource } from '../../fs/view.js';
export { bindingKey, type Lookup, type NodeTask, type SecretFileRef, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot } from '../../fs/view.js';

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

/**
 * A root name that more than one service claims (a task name equal to another service's task name or
 * to another service's alias: an older manager allowed dots in service names, so `web.1` could be task 1
 * of `web` and the global service `web.1`). It is served for none of them: fail closed.
 */
export interface NameConflict {
  name: string;
  /** The services claiming it, sorted. */
  services: string[];
}

const versionKey = (id: string, version: number) => `${id}@${version}`;
const MAX_HANDLE = 0x7fffffff;
/**
 * Root order keys: a task name is placed by the incarnation of its first task (incarnations grow in
 * the order tasks arrive), a service alias by its task's incarnation after every task name.
 */
const ALIAS_KEY_BASE = 2 ** 40;

interface DirEntry {
  taskId: string;
  /** Its place in the root listing (see ALIAS_KEY_BASE). */
  key: number;
}

/** The root listing: names kept sorted by a unique numeric key. */
class RootOrder {
  private keys: number[] = [];
  private names: string[] = [];

  insert(key: number, name: string): void {
    const i = this.firstAtLeast(key);
    this.keys.splice(i, 0, key);
    this.names.splice(i, 0, name);
  }

  remove(key: number): void {
    const i = this.firstAtLeast(key);
    if (this.keys[i] !== key) throw new Error('hush: NodeSecrets root order out of step');
    this.keys.splice(i, 1);
    this.names.splice(i, 1);
  }

  list(): string[] {
    return this.names.slice();
  }

  keyList(): number[] {
    return this.keys.slice();
  }

  private firstAtLeast(key: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** What one apply()/replaceAll() touched, collected as it goes (it becomes the ViewDelta). */
class Changes {
  /** Task id → the task and its incarnation before this change, for each task upserted or removed. */
  readonly before = new Map<string, { task?: NodeTask; incarnation?: number }>();
  /** Tasks whose rows may differ: upserted, removed, or using a version added or dropped. */
  readonly tasks = new Set<string>();
  /** Root names to resolve again: the names and services of those tasks, before and after. */
  readonly names = new Set<string>();
  readonly versions = new Map<string, Buffer | null>();

  /** Records a task's state before its first change in this call. */
  remember(id: string, task: NodeTask | undefined, incarnation: number | undefined): void {
    if (!this.before.has(id)) this.before.set(id, { task, incarnation });
  }

  touch(task: NodeTask): void {
    this.tasks.add(task.id);
    this.names.add(task.name);
    this.names.add(task.serviceName);
  }
}

export class NodeSecrets implements ViewSource, HandleSource, TaskSource {
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
  /** Directory name → its task: every task by its name, plus each service with exactly one task here. */
  private dirs = new Map<string, DirEntry>();
  private root = new RootOrder();
  /** Versions no longer in `versions` (removed or replaced) but still read by open handles. */
  private retired = new Set<Held>();
  private handles = new Map<number, Handle>();
  /** Task id → its open handles (a change looks only at the handles of the tasks it touched). */
  private handlesByTask = new Map<string, Set<number>>();
  private nextHandle = 1;
  private listeners = new Set<(delta: ViewDelta) => void>();
  /** Root names claimed by more than one service, served by none (see NameConflict). */
  private conflicts = new Map<string, NameConflict>();

  /** onConflict: called when a root name becomes claimed by several services (names only, for a log line). */
  constructor(private readonly onConflict?: (conflict: NameConflict) => void) {}

  /** Replaces everything (a COMPLETE): whatever is not in it is revoked. */
  replaceAll(tasks: NodeTask[], secrets: SecretPayload[]): void {
    const c = new Changes();
    const keepTasks = new Set(tasks.map((t) => t.id));
    for (const id of [...this.tasks.keys()]) if (!keepTasks.has(id)) this.removeTask(id, c);
    const keepVersions = new Set(secrets.map((s) => versionKey(s.id, s.version)));
    for (const key of [...this.versions.keys()]) if (!keepVersions.has(key)) this.dropVersion(key, c);
    this.change(c, tasks, [], secrets, []);
  }

  /** Applies an INCREMENTAL: secrets added before tasks use them, tasks removed before their secrets. */
  apply(upsertTasks: NodeTask[], removeTaskIds: string[], addSecrets: SecretPayload[], removeSecrets: Array<{ id: string; version: number }> = []): void {
    this.change(new Changes(), upsertTasks, removeTaskIds, addSecrets, removeSecrets);
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
    if (this.dirs.get(task.name)?.taskId === task.id) return undefined;
    const conflict = this.conflicts.get(task.name);
    if (conflict) return `name conflict: ${task.name} is claimed by services ${conflict.services.join(', ')}`;
    return `a later task named ${task.name} is served`;
  }

  /** The root names claimed by several services now, served by none. */
  nameConflicts(): NameConflict[] {
    return [...this.conflicts.values()];
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

  /** The whole view (see ViewSnapshot), built with lookup() so that it answers exactly as the view does. */
  view(): ViewSnapshot {
    const rootNames = this.root.list();
    const { dirs, files } = this.rows(rootNames);
    const bindings: string[] = [];
    for (const t of this.tasks.values()) bindings.push(...this.bindingsOf(t, this.incarnations.get(t.id)!));
    const versions = new Map<string, Buffer>();
    for (const [key, held] of this.versions) if (!held.dropped) versions.set(key, held.payload.data);
    return { rootNames, rootKeys: this.root.keyList(), dirs, files, bindings, versions };
  }

  /** The rows of view() for these root names' directories and their files (a name not served has none). */
  rows(rootNames: Iterable<string>): { dirs: ViewDir[]; files: ViewFile[] } {
    const dirs: ViewDir[] = [];
    const files: ViewFile[] = [];
    for (const name of rootNames) {
      const path = '/' + name;
      const dir = this.lookup(path);
      if (dir?.kind !== 'dir') continue;
      const names: string[] = [];
      const seen = new Set<string>();
      const incarnation = this.incarnations.get(dir.task.id)!;
      for (const f of dir.task.files) {
        const filePath = path + '/' + f.target;
        const file = this.lookup(filePath);
        if (file?.kind !== 'file') continue;
        names.push(f.target);
        if (seen.has(filePath)) continue;
        seen.add(filePath);
        const { ref } = file;
        files.push({
          path: filePath, uid: ref.uid, gid: ref.gid, mode: ref.mode & 0o777, mtimeMs: file.mtimeMs,
          binding: bindingKey(dir.task.id, incarnation, ref.target, ref.secretId), version: versionKey(ref.secretId, ref.version),
        });
      }
      dirs.push({ path, uid: dir.uid, gid: dir.gid, mode: dir.mode & 0o777, mtimeMs: dir.mtimeMs, names });
    }
    return { dirs, files };
  }

  // ---- the view's side: every call is a map lookup ----

  lookup(path: string): Lookup | undefined {
    if (path === '/') return { kind: 'root', names: this.root.list() };
    const parts = path.split('/');
    if (parts.length < 2 || parts.length > 3 || parts[0] !== '') return undefined;
    const taskId = this.dirs.get(parts[1])?.taskId;
    const task = taskId ? this.tasks.get(taskId) : undefined;
    if (!task) return undefined;
    if (parts.length === 2) {
      const owner = task.files[0];
      const uid = owner?.uid ?? 0;
      const gid = owner?.gid ?? 0;
      return { kind: 'dir', task, uid, gid, mode: dirMode(task, uid, gid), mtimeMs: this.newest(task) };
    }
    const ref = task.files.find((f) => f.target === parts[2]);
    const held = ref && this.versions.get(versionKey(ref.secretId, ref.version));
    if (!ref || !held) return undefined;
    return { kind: 'file', task, ref, size: held.payload.data.length, mtimeMs: held.payload.createdAtMs };
  }

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

  private change(c: Changes, upserts: NodeTask[], removeIds: string[], addSecrets: SecretPayload[], removeSecrets: Array<{ id: string; version: number }>): void {
    for (const s of addSecrets) this.addVersion(s, c);
    for (const t of upserts) this.upsertTask(t, c);
    for (const id of removeIds) this.removeTask(id, c);
    for (const s of removeSecrets) this.dropVersion(versionKey(s.id, s.version), c);
    const revokedBindings = this.revokedBindings(c);
    this.revokeStaleHandles(c.before.keys());
    const delta: ViewDelta = { ...this.reindex(c), revokedBindings, versions: c.versions };
    for (const l of this.listeners) l(delta);
  }

  private addVersion(s: SecretPayload, c: Changes): void {
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

  private dropVersion(key: string, c: Changes): void {
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
  private touchUsers(key: string, c: Changes): void {
    for (const id of this.users.get(key) ?? []) c.touch(this.tasks.get(id)!);
  }

  private upsertTask(t: NodeTask, c: Changes): void {
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

  private removeTask(id: string, c: Changes): void {
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

  /**
   * Resolves the touched root names again (updating dirs and the root order) and says which entries
   * moved, and which directories changed or went.
   */
  private reindex(c: Changes): Pick<ViewDelta, 'rootRemoved' | 'rootAdded' | 'changedDirs' | 'removedDirs'> {
    const resolved = [...c.names].map((name) => ({ name, before: this.dirs.get(name), after: this.resolveDirOnce(name) }));
    const rootRemoved: number[] = [];
    const rootAdded: Array<[number, string]> = [];
    const changedDirs: string[] = [];
    const removedDirs: string[] = [];
    // All removals first: a renamed task's key leaves its old name before it joins the new one.
    for (const { before, after } of resolved) {
      if (!before || before.key === after?.key) continue;
      this.root.remove(before.key);
      rootRemoved.push(before.key);
    }
    for (const { name, before, after } of resolved) {
      if (!after || after.key === before?.key) continue;
      this.root.insert(after.key, name);
      rootAdded.push([after.key, name]);
    }
    for (const { name, before, after } of resolved) {
      if (after) {
        this.dirs.set(name, after);
        if (before?.taskId !== after.taskId || c.tasks.has(after.taskId)) changedDirs.push(name);
      } else if (before) {
        this.dirs.delete(name);
        removedDirs.push(name);
      }
    }
    return { rootRemoved, rootAdded, changedDirs, removedDirs };
  }

  /** resolveDir, after recording whether the name is in conflict now (reported once each time it becomes so). */
  private resolveDirOnce(name: string): DirEntry | undefined {
    const conflict = this.conflictAt(name);
    if (!conflict) {
      this.conflicts.delete(name);
      return this.resolveDir(name);
    }
    const known = this.conflicts.get(name);
    this.conflicts.set(name, conflict);
    if (!known || known.services.join('\n') !== conflict.services.join('\n')) this.onConflict?.(conflict);
    return undefined;
  }

  /**
   * The services claiming a root name, when there are several: those of the tasks of that name, and the
   * service of that name when it has tasks here (its alias, served or not: an alias that would appear
   * when the service's other tasks go must not then serve another service's task). Costs the number of
   * tasks of that name, whatever the size of the service.
   */
  private conflictAt(name: string): NameConflict | undefined {
    const services = new Set<string>();
    for (const id of this.byName.get(name) ?? []) services.add(this.tasks.get(id)!.serviceName);
    if (this.byService.has(name)) services.add(name);
    return services.size > 1 ? { name, services: [...services].sort() } : undefined;
  }

  /**
   * The task a root name serves (the name is claimed by one service only): the task of that name (the
   * latest if several of that service share it, placed where the first is), else the only task of the
   * service of that name.
   */
  private resolveDir(name: string): DirEntry | undefined {
    const named = this.byName.get(name);
    if (named) {
      let first = Infinity;
      let last = -Infinity;
      let taskId = '';
      for (const id of named) {
        const incarnation = this.incarnations.get(id)!;
        first = Math.min(first, incarnation);
        if (incarnation > last) [last, taskId] = [incarnation, id];
      }
      return { taskId, key: first };
    }
    const service = this.byService.get(name);
    if (service?.size !== 1) return undefined;
    const [taskId] = service;
    return { taskId, key: ALIAS_KEY_BASE + this.incarnations.get(taskId)! };
  }

  private bindingsOf(task: NodeTask, incarnation: number): string[] {
    return task.files.map((f) => bindingKey(task.id, incarnation, f.target, f.secretId));
  }

  /** The bindings of the tasks this change upserted or removed that were alive before and are not now. */
  private revokedBindings(c: Changes): string[] {
    const revoked = new Set<string>();
    for (const [id, before] of c.before) {
      if (!before.task) continue;
      const now = this.tasks.get(id);
      const alive = new Set(now ? this.bindingsOf(now, this.incarnations.get(id)!) : []);
      for (const key of this.bindingsOf(before.task, before.incarnation!)) if (!alive.has(key)) revoked.add(key);
    }
    return [...revoked];
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

  private newest(task: NodeTask): number {
    let t = 0;
    for (const f of task.files) t = Math.max(t, this.versions.get(versionKey(f.secretId, f.version))?.payload.createdAtMs ?? 0);
    return t;
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

