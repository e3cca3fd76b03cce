import { bindingKey, dirMode, versionKey, type Lookup, type NodeTask, type ViewDelta, type ViewDir, type ViewFile, type ViewSnapshot } from './view.js';

// The projection of the node's tasks into the mount's tree: which task each root name serves (a task
// under its name, a service with one task here under the service's name: its alias), in which order,
// the directories and files below them, and what one change of the tasks changed in that tree (the
// ViewDelta the engines follow). It reads the node's state through ProjectedState (the agent's
// NodeSecrets implements it) and keeps only what it derives: root name → task, the root order, the
// names claimed by several services. A change costs what it touches, not what the node holds.

/** The bytes of one secret version on the node and when it was created. */
export interface SecretVersion {
  readonly data: Buffer;
  readonly createdAtMs: number;
}

/** What the projection reads of the node's state (the agent's NodeSecrets). */
export interface ProjectedState {
  task(id: string): NodeTask | undefined;
  taskList(): NodeTask[];
  /** A number bumped each time a task id is (re)added: a handle from an earlier life of the id stays revoked. */
  incarnation(taskId: string): number | undefined;
  /** The ids of the tasks with this name (one, unless the manager sent duplicates). */
  tasksNamed(name: string): ReadonlySet<string> | undefined;
  /** The ids of this service's tasks on the node. */
  tasksOfService(service: string): ReadonlySet<string> | undefined;
  /** A version the node holds, by versionKey. */
  version(key: string): SecretVersion | undefined;
  /** The versions the node holds (versionKey → bytes), without those kept only by open handles. */
  liveVersions(): Iterable<[key: string, data: Buffer]>;
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

/** What one change of the state touched, collected as it goes by the state (it becomes the ViewDelta). */
export class ViewChanges {
  /** Task id → the task and its incarnation before this change, for each task upserted or removed. */
  readonly before = new Map<string, { task?: NodeTask; incarnation?: number }>();
  /** Tasks whose rows may differ: upserted, removed, or using a version added or dropped. */
  readonly tasks = new Set<string>();
  /** Root names to resolve again: the names and services of those tasks, before and after. */
  readonly names = new Set<string>();
  /** Versions added or replaced (key → bytes), or no longer held (key → null). */
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

export class ViewProjection {
  /** Directory name → its task: every task by its name, plus each service with exactly one task here. */
  private dirs = new Map<string, DirEntry>();
  private root = new RootOrder();
  /** Root names claimed by more than one service, served by none (see NameConflict). */
  private conflicts = new Map<string, NameConflict>();

  /** onConflict: called when a root name becomes claimed by several services (names only, for a log line). */
  constructor(private readonly state: ProjectedState, private readonly onConflict?: (conflict: NameConflict) => void) {}

  /** The whole view (see ViewSnapshot), built with lookup() so that it answers exactly as the view does. */
  view(): ViewSnapshot {
    const rootNames = this.root.list();
    const { dirs, files } = this.rows(rootNames);
    const bindings: string[] = [];
    for (const t of this.state.taskList()) bindings.push(...this.bindingsOf(t, this.state.incarnation(t.id)!));
    const versions = new Map<string, Buffer>();
    for (const [key, data] of this.state.liveVersions()) versions.set(key, data);
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
      for (const f of dir.task.files) {
        const filePath = path + '/' + f.target;
        const file = this.lookup(filePath);
        if (file?.kind !== 'file') continue;
        names.push(f.target);
        if (seen.has(filePath)) continue;
        seen.add(filePath);
        const { ref } = file;
        files.push({ path: filePath, uid: ref.uid, gid: ref.gid, mode: ref.mode & 0o777, mtimeMs: file.mtimeMs, binding: file.binding, version: file.version });
      }
      dirs.push({ path, uid: dir.uid, gid: dir.gid, mode: dir.mode & 0o777, mtimeMs: dir.mtimeMs, names });
    }
    return { dirs, files };
  }

  /** What a mount path is now: every call is a few map lookups. */
  lookup(path: string): Lookup | undefined {
    if (path === '/') return { kind: 'root', names: this.root.list() };
    const parts = path.split('/');
    if (parts.length < 2 || parts.length > 3 || parts[0] !== '') return undefined;
    const taskId = this.dirs.get(parts[1])?.taskId;
    const task = taskId ? this.state.task(taskId) : undefined;
    if (!task) return undefined;
    if (parts.length === 2) {
      const owner = task.files[0];
      const uid = owner?.uid ?? 0;
      const gid = owner?.gid ?? 0;
      return { kind: 'dir', task, uid, gid, mode: dirMode(task, uid, gid), mtimeMs: this.newest(task) };
    }
    const ref = task.files.find((f) => f.target === parts[2]);
    if (!ref) return undefined;
    const version = versionKey(ref.secretId, ref.version);
    const held = this.state.version(version);
    if (!held) return undefined;
    const binding = bindingKey(task.id, this.state.incarnation(task.id)!, ref.target, ref.secretId);
    return { kind: 'file', task, ref, size: held.data.length, mtimeMs: held.createdAtMs, binding, version };
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

  /** Follows one change of the state (already applied there): what it changed in the view. */
  delta(c: ViewChanges): ViewDelta {
    const revokedBindings = this.revokedBindings(c);
    return { ...this.reindex(c), revokedBindings, versions: c.versions };
  }

  // ---- internals ----

  /**
   * Resolves the touched root names again (updating dirs and the root order) and says which entries
   * moved, and which directories changed or went.
   */
  private reindex(c: ViewChanges): Pick<ViewDelta, 'rootRemoved' | 'rootAdded' | 'changedDirs' | 'removedDirs'> {
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
    for (const id of this.state.tasksNamed(name) ?? []) services.add(this.state.task(id)!.serviceName);
    if (this.state.tasksOfService(name)) services.add(name);
    return services.size > 1 ? { name, services: [...services].sort() } : undefined;
  }

  /**
   * The task a root name serves (the name is claimed by one service only): the task of that name (the
   * latest if several of that service share it, placed where the first is), else the only task of the
   * service of that name.
   */
  private resolveDir(name: string): DirEntry | undefined {
    const named = this.state.tasksNamed(name);
    if (named) {
      let first = Infinity;
      let last = -Infinity;
      let taskId = '';
      for (const id of named) {
        const incarnation = this.state.incarnation(id)!;
        first = Math.min(first, incarnation);
        if (incarnation > last) [last, taskId] = [incarnation, id];
      }
      return { taskId, key: first };
    }
    const service = this.state.tasksOfService(name);
    if (service?.size !== 1) return undefined;
    const [taskId] = service;
    return { taskId, key: ALIAS_KEY_BASE + this.state.incarnation(taskId)! };
  }

  private bindingsOf(task: NodeTask, incarnation: number): string[] {
    return task.files.map((f) => bindingKey(task.id, incarnation, f.target, f.secretId));
  }

  /** The bindings of the tasks this change upserted or removed that were alive before and are not now. */
  private revokedBindings(c: ViewChanges): string[] {
    const revoked = new Set<string>();
    for (const [id, before] of c.before) {
      if (!before.task) continue;
      const now = this.state.task(id);
      const alive = new Set(now ? this.bindingsOf(now, this.state.incarnation(id)!) : []);
      for (const key of this.bindingsOf(before.task, before.incarnation!)) if (!alive.has(key)) revoked.add(key);
    }
    return [...revoked];
  }

  private newest(task: NodeTask): number {
    let t = 0;
    for (const f of task.files) t = Math.max(t, this.state.version(versionKey(f.secretId, f.version))?.createdAtMs ?? 0);
    return t;
  }
}
