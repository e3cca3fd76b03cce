import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../../common/package.js';

// The native FUSE engine's addon (fs/native/hushfs_*.c, built as hush_fs_engine.node): its API,
// documented here only, and its loader. fs/engines/native.ts is its one user in the product.
//
// One engine serves one mount from its own table in C memory, on libfuse's threads; only the JS
// thread changes the table (putBlob, dropBlob, setTree, updateTree), each change in one step under
// the C write lock: once a call returns, no FUSE request sees the table from before it, and every read
// that starts on a revoked binding fails with EACCES (a read already under way completes).
//
// Names: every root name, every name a dir row lists and each component of a row's path must be one
// path component (not empty, '.' or '..'; no '/' or NUL; at most 255 bytes), dir paths `/NAME` and
// file paths `/NAME/NAME`. A call that breaks this throws and changes nothing (the last line of defence:
// the manager validates names first).
//
// Secret bytes: putBlob copies the Buffer's bytes into C memory (mlock'ed when possible), and that copy
// is zeroed and freed with its last reference (the id's, a tree entry's, an open handle's, or when the
// FUSE loop ends); a READ is answered from it with no other copy. The Buffer stays the caller's: the
// addon keeps no reference to it, and zeroing it is the caller's job (NodeSecrets zeroes every payload
// it drops).

export interface EngineStats {
  /** Versions registered (those NodeSecrets holds). */
  blobs: number;
  /** Versions in C memory, including old ones kept only by open handles. */
  liveBlobs: number;
  /** Open file handles. */
  handles: number;
  /** Live handle bindings. */
  bindings: number;
  /** The FUSE loop is running (mounted, or detached with files still open). */
  running: boolean;
  /** Versions copied into C memory whose pages could not be locked (mlock), since the engine was created. */
  mlockFailures: number;
  /** The errno of the last failed mlock (0: none). */
  mlockErrno: number;
}

export type Engine = { readonly __brand: 'hushfs-engine' };
/** A root entry: its order key (an integer; the listing is in key order) and its name. */
export type RootEntry = readonly [key: number, name: string];
/** A task directory `/NAME`, with what readdir lists after "." and "..", in order. */
export type DirRow = [path: string, uid: number, gid: number, mode: number, mtimeMs: number, names: string[]];
/** A file `/DIR/NAME` serving the registered blob `version` (its size is the blob's), bound to `binding`. */
export type FileRow = [path: string, uid: number, gid: number, mode: number, mtimeMs: number, binding: string, version: string];

export interface HushFsAddon {
  /** A new engine (no tree, not mounted); the root directory's times are rootTimeMs. */
  create(rootTimeMs: number): Engine;
  /**
   * Copies data into C memory under id (`${secretId}@${version}`), replacing a blob of the same id.
   * Returns whether the copy is locked in memory (mlock; false: RLIMIT_MEMLOCK was reached).
   */
  putBlob(engine: Engine, id: string, data: Buffer): boolean;
  /** Forgets id; entries and handles that hold the blob keep it until they go. */
  dropBlob(engine: Engine, id: string): void;
  /**
   * Replaces the served tree: the same as updateTree applied to an empty tree (the root entries put in by
   * key, the rows put in), then every registered binding that is neither in liveBindings nor named by a
   * file row is revoked, in the same step. Returns how many files were left out because their version is
   * not registered (0 normally); a path given twice keeps its first row.
   */
  setTree(engine: Engine, root: readonly RootEntry[], dirs: DirRow[], files: FileRow[], liveBindings: readonly string[]): number;
  /**
   * Changes the served tree in place, in one step (after a setTree): removes the root entries with the keys
   * in rootRemoved and the directories at dirPaths with their files (list every directory a dir row
   * replaces), puts in rootAdded by key and the rows (an entry still at a row's path is replaced), and
   * revokes revokedBindings (unknown keys: none). Returns as setTree.
   */
  updateTree(engine: Engine, rootRemoved: readonly number[], rootAdded: readonly RootEntry[], dirPaths: string[], dirs: DirRow[], files: FileRow[], revokedBindings: readonly string[]): number;
  /**
   * fuse_mount + fuse_new on this thread, then the FUSE loop on its own thread. onEvent('init') once the
   * kernel has initialised the connection, onEvent('exit') when the loop has ended (the mount detached and
   * its last file closed) and /dev/fuse is closed. Unmounting is the caller's (umount2 MNT_DETACH).
   */
  mount(engine: Engine, mountPoint: string, options: string, onEvent: (event: 'init' | 'exit') => void): void;
  /**
   * The same as mount, on libfuse's low-level API (fs/native/hushfs_ll.c, HUSH_FS_ENGINE=native-ll): inode
   * numbers are a hash of the path (the root's 1) and file handles small integers into the engine's own
   * table, so a later process could serve the same connection. Same arguments, events and guarantees.
   */
  mountLowLevel(engine: Engine, mountPoint: string, options: string, onEvent: (event: 'init' | 'exit') => void): void;
  /** The running loop no longer keeps the process alive (after the caller detached the mount). */
  unref(engine: Engine): void;
  stats(engine: Engine): EngineStats;
}

const ADDON = join('fs', 'native', 'build', 'Release', 'hush_fs_engine.node');

let addon: HushFsAddon | undefined;

/** The addon, loaded once; throws if it is not built. */
export function loadAddon(): HushFsAddon {
  if (addon) return addon;
  const root = packageRoot();
  const file = join(root, ADDON);
  if (!existsSync(file)) {
    throw new Error(`hush: native FUSE engine ${ADDON} is not built (it needs libfuse-dev and pkg-config at \`npm ci\` time); run \`npm run install\` in ${root}, or set HUSH_FS_ENGINE=fuse-native`);
  }
  addon = createRequire(import.meta.url)(file) as HushFsAddon;
  return addon;
}

/** Whether the native engine is built (HUSH_FS_ENGINE=native can work). */
export function nativeEngineAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}
