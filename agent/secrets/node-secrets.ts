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

export interface SecretFileRef {
  secretId: string;
  secretName: string;
  version: number;
  target: string;
  uid: number;
  gid: number;
  mode: number;
}

export interface NodeTask {
  id: string;
  name: string;
  serviceName: string;
  files: SecretFileRef[];
}

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

export type Lookup =
  | { kind: 'root'; names: string[] }
  | { kind: 'dir'; task: NodeTask; uid: number; gid: number; mode: number; mtimeMs: number }
  | { kind: 'file'; task: NodeTask; ref: SecretFileRef; size: number; mtimeMs: number };

/** A served directory of the view (a task under its name or its service alias). */
export interface ViewDir {
  path: string;
  uid: number;
  gid: number;
  /** Permission bits (dirMode). */
  mode: number;
  mtimeMs: number;
  /** What readdir lists after "." and "..", in order. */
  names: string[];
}

/** A served file of the view. */
export interface ViewFile {
  path: string;
  uid: number;
  gid: number;
  /** Permission bits. */
  mode: number;
  mtimeMs: number;
  /** The reference a handle opened through this path stays bound to (see bindingKey). */
  binding: string;
  /** The version it serves: `${secretId}@${version}`, a key of ViewSnapshot.versions. */
  version: string;
}

/**
 * The whole view at one moment, for a server that keeps its own copy (the native FUSE engine): the
 * same answers as lookup() gives for every path, plus which handle bindings are alive.
 */
export interface ViewSnapshot {
  rootNames: string[];
  dirs: ViewDir[];
  files: ViewFile[];
  /** Every live binding (a reference of a current task incarnation), shown or not. */
  bindings: string[];
  /** The versions in memory (not the retired ones kept only by this object's own handles). */
  versions: Map<string, Buffer>;
}

/**
 * A handle stays readable while its task (the same incarnation) still has a reference with its target
 * to its secret id (revokeStaleHandles): that triple, as one key.
 */
export const bindingKey = (taskId: string, incarnation: number, target: string, secretId: string) =>
  JSON.stringify([taskId, incarnation, target, secretId]);

const versionKey = (id: string, version: number) => `${id}@${version}`;
const MAX_HANDLE = 0x7fffffff;

export class NodeSecrets {
  private tasks = new Map<string, NodeTask>();
  /** Bumped each time a task id is (re)added, so a handle from an earlier life of a task id stays revoked. */
  private incarnations = new Map<string, number>();
  private nextIncarnation = 1;
  private versions = new Map<string, Held>();
  /** Directory name → task id: every task by its name, plus each service with exactly one task here. */
  private dirs = new Map<string, string>();
  /** Versions no longer in `versions` (removed or replaced) but still read by open handles. */
  private retired = new Set<Held>();
  private handles = new Map<number, Handle>();
  private nextHandle = 1;
  private listeners = new Set<() => void>();

  /** Replaces everything (a COMPLETE): whatever is not in it is revoked. */
  replaceAll(tasks: NodeTask[], secrets: SecretPayload[]): void {
    const keepTasks = new Set(tasks.map((t) => t.id));
    for (const id of [...this.tasks.keys()]) if (!keepTasks.has(id)) this.removeTask(id);
    const keepVersions = new Set(secrets.map((s) => versionKey(s.id, s.version)));
    for (const key of [...this.versions.keys()]) if (!keepVersions.has(key)) this.dropVersion(key);
    this.apply(tasks, [], secrets);
  }

  /** Applies an INCREMENTAL: secrets added before tasks use them, tasks removed before their secrets. */
  apply(upsertTasks: NodeTask[], removeTaskIds: string[], addSecrets: SecretPayload[], removeSecrets: Array<{ id: string; version: number }> = []): void {
    for (const s of addSecrets) {
      const key = versionKey(s.id, s.version);
      const existing = this.versions.get(key);
      if (existing && !existing.dropped) {
        // Versions are immutable: keep the one we have and zero the duplicate (unless it is the very
        // buffer we hold, as when a caller passes the same payload objects again).
        if (s.data !== existing.payload.data) s.data.fill(0);
        continue;
      }
      this.versions.set(key, new Held({ ...s, data: s.data }));
    }
    for (const t of upsertTasks) {
      if (!this.tasks.has(t.id)) this.incarnations.set(t.id, this.nextIncarnation++);
      this.tasks.set(t.id, { ...t, files: t.files.filter((f) => this.versions.has(versionKey(f.secretId, f.version))) });
    }
    for (const id of removeTaskIds) this.removeTask(id);
    for (const s of removeSecrets) this.dropVersion(versionKey(s.id, s.version));
    this.reindex();
    this.revokeStaleHandles();
    for (const l of this.listeners) l();
  }

  /** Called after every change (for status reporting). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  taskList(): NodeTask[] {
    return [...this.tasks.values()];
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
    const rootNames = [...this.dirs.keys()];
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
    const bindings: string[] = [];
    for (const t of this.tasks.values()) {
      const incarnation = this.incarnations.get(t.id)!;
      for (const f of t.files) bindings.push(bindingKey(t.id, incarnation, f.target, f.secretId));
    }
    const versions = new Map<string, Buffer>();
    for (const [key, held] of this.versions) if (!held.dropped) versions.set(key, held.payload.data);
    return { rootNames, dirs, files, bindings, versions };
  }

  // ---- the view's side: every call is a map lookup ----

  lookup(path: string): Lookup | undefined {
    if (path === '/') return { kind: 'root', names: [...this.dirs.keys()] };
    const parts = path.split('/');
    if (parts.length < 2 || parts.length > 3 || parts[0] !== '') return undefined;
    const taskId = this.dirs.get(parts[1]);
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
    this.handles.set(fd, { taskId: found.task.id, incarnation: this.incarnations.get(found.task.id)!, target: found.ref.target, held, revoked: false });
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
    if (!h.revoked) this.unhold(h.held);
  }

  /** Zeroes and drops everything (agent shutdown). */
  wipe(): void {
    this.replaceAll([], []);
  }

  // ---- internals ----

  private removeTask(id: string): void {
    this.tasks.delete(id);
    this.incarnations.delete(id);
  }

  private dropVersion(key: string): void {
    const held = this.versions.get(key);
    if (!held) return;
    this.versions.delete(key);
    held.referenced = false;
    held.release();
    if (!held.dropped) this.retired.add(held);
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

  private reindex(): void {
    this.dirs.clear();
    const byService = new Map<string, NodeTask[]>();
    for (const t of this.tasks.values()) {
      this.dirs.set(t.name, t.id);
      byService.set(t.serviceName, [...(byService.get(t.serviceName) ?? []), t]);
    }
    // A stable path for a service with exactly one task here (a task name wins a clash).
    for (const [service, tasks] of byService) if (tasks.length === 1 && !this.dirs.has(service)) this.dirs.set(service, tasks[0].id);
  }

  /** A handle is revoked once its task (this incarnation) or its reference to that secret is gone. */
  private revokeStaleHandles(): void {
    for (const h of this.handles.values()) {
      if (h.revoked) continue;
      const task = this.tasks.get(h.taskId);
      const alive = task && this.incarnations.get(h.taskId) === h.incarnation
        && task.files.some((f) => f.target === h.target && f.secretId === h.held.payload.id);
      if (alive) continue;
      h.revoked = true;
      this.unhold(h.held);
    }
  }

  private newest(task: NodeTask): number {
    let t = 0;
    for (const f of task.files) t = Math.max(t, this.versions.get(versionKey(f.secretId, f.version))?.payload.createdAtMs ?? 0);
    return t;
  }
}

/**
 * The task directory (owned by uid:gid, those of its first reference): 0500; group r-x when a reference
 * grants group read; others r-x when one grants others read. Whoever a file lets read must also be able
 * to reach it: a reference owned by another uid adds search (x, not list) for group and others, and a
 * group-readable one of another gid adds search for others.
 */
function dirMode(task: NodeTask, uid: number, gid: number): number {
  let mode = 0o500;
  for (const f of task.files) {
    if (f.mode & 0o040) mode |= 0o050;
    if (f.mode & 0o004) mode |= 0o005;
    if (f.uid !== uid && f.mode & 0o400) mode |= 0o011;
    if (f.gid !== gid && f.mode & 0o040) mode |= 0o001;
  }
  return mode;
}
