// The view the FUSE engines serve, and what they read it from. The agent's NodeSecrets
// (agent/secrets/node-secrets.ts) implements these interfaces; fs/ imports nothing of agent/.
// A task (NodeTask) serves its references (SecretFileRef) as files; the view (fs/projection.ts)
// projects tasks into the mount's root entries, directories and files (ViewSnapshot, then ViewDelta
// per change).

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

/** What a mount path is; a file carries its binding and version as its ViewFile does. */
export type Lookup =
  | { kind: 'root'; names: string[] }
  | { kind: 'dir'; task: NodeTask; uid: number; gid: number; mode: number; mtimeMs: number }
  | { kind: 'file'; task: NodeTask; ref: SecretFileRef; size: number; mtimeMs: number; binding: string; version: string };

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
  /** The version it serves (versionKey), a key of ViewSnapshot.versions. */
  version: string;
}

/**
 * The whole view at one moment, for a server that keeps its own copy (the native FUSE engine): the
 * same answers as lookup() gives for every path, plus which handle bindings are alive.
 */
export interface ViewSnapshot {
  rootNames: string[];
  /** The order key of each of rootNames (increasing): a ViewDelta places root entries by these keys. */
  rootKeys: number[];
  dirs: ViewDir[];
  files: ViewFile[];
  /** Every live binding (a reference of a current task incarnation), shown or not. */
  bindings: string[];
  /** The versions in memory (not the retired ones kept only by this object's own handles). */
  versions: Map<string, Buffer>;
}

/**
 * What one apply()/replaceAll() changed in the view, for a server that keeps its own copy: the copy of
 * the view before, with these entries removed and the rows() of changedDirs put in, is view().
 */
export interface ViewDelta {
  /** Root entries gone, by order key (see ViewSnapshot.rootKeys); an entry that moved is in both lists. */
  readonly rootRemoved: readonly number[];
  /** Root entries new (or moved): [order key, name]. */
  readonly rootAdded: ReadonlyArray<readonly [key: number, name: string]>;
  /** Root names served now whose directory (attributes, listing or files) may differ: see rows(). */
  readonly changedDirs: readonly string[];
  /** Root names no longer served. */
  readonly removedDirs: readonly string[];
  /** Bindings alive before and not any more: every handle opened through one fails its next read. */
  readonly revokedBindings: readonly string[];
  /** Versions added or replaced (key → its bytes), or no longer held (key → null). */
  readonly versions: ReadonlyMap<string, Buffer | null>;
}

export { versionKey } from '../common/version-key.js';

/**
 * A handle stays readable while its task (the same incarnation) still has a reference with its target
 * to its secret id (revokeStaleHandles): that triple, as one key.
 */
export const bindingKey = (taskId: string, incarnation: number, target: string, secretId: string) =>
  JSON.stringify([taskId, incarnation, target, secretId]);

/**
 * The task directory (owned by uid:gid, those of its first reference): 0500; group r-x when a reference
 * grants group read; others r-x when one grants others read. Whoever a file lets read must also be able
 * to reach it: a reference owned by another uid adds search (x, not list) for group and others, and a
 * group-readable one of another gid adds search for others.
 */
export function dirMode(task: NodeTask, uid: number, gid: number): number {
  let mode = 0o500;
  for (const f of task.files) {
    if (f.mode & 0o040) mode |= 0o050;
    if (f.mode & 0o004) mode |= 0o005;
    if (f.uid !== uid && f.mode & 0o400) mode |= 0o011;
    if (f.gid !== gid && f.mode & 0o040) mode |= 0o001;
  }
  return mode;
}

/** What every engine reads: the view, row by row or whole, and its changes. */
export interface ViewSource {
  /** The whole view at this moment. */
  view(): ViewSnapshot;
  /** The directories (with their files) served under these root names now. */
  rows(rootNames: Iterable<string>): { dirs: ViewDir[]; files: ViewFile[] };
  /** What a mount path is now, if anything. */
  lookup(path: string): Lookup | undefined;
  /** Called synchronously at the end of every change with what it changed; returns an unsubscribe. */
  onChange(listener: (delta: ViewDelta) => void): () => void;
}

/**
 * Versions kept readable for the fuse-native engine's open handles (fs/engines/fuse-native-handles.ts;
 * the native engine keeps its own copies in C): the state zeroes a version it dropped only once every
 * hold on it is released.
 */
export interface VersionHolds {
  /** Holds the version (by versionKey) the state has now; undefined when it has none. */
  hold(version: string): HeldVersion | undefined;
}

export interface HeldVersion {
  /** Its bytes, whole until release(). */
  readonly data: Buffer;
  /** Lets the state zero and drop the version once nothing else uses it. Idempotent. */
  release(): void;
}

/** What the per-task anchors follow: the tasks on the node and whether each is served. */
export interface TaskSource {
  taskList(): NodeTask[];
  /** Why a task is not served (its name is claimed by two services), or undefined. */
  unservedReason(task: NodeTask): string | undefined;
  onChange(listener: (delta: ViewDelta) => void): () => void;
}

/** What mountSecrets() serves: the view and, for the fuse-native engine's handles, holds on its versions. */
export type ServedState = ViewSource & VersionHolds;
