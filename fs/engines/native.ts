import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ViewDelta, ViewDir, ViewFile, ViewSnapshot, ViewSource } from '../view.js';
import { detachUnmountIfMounted, nativeSys } from '../../common/native.js';
import { packageRoot } from '../../common/package.js';
import { MOUNT_OPTIONS, type MountedSecrets } from './engine.js';
import { canonicalMountPoint, detachOwnMount, ownMount, prepareMountPoint } from '../mountpoint.js';

// The native FUSE engine (the default; HUSH_FS_ENGINE=fuse-native picks the other, see fs/mount.ts): the same read-only
// view as fs/ops.ts over fuse-native, but every FUSE request is answered on libfuse's own threads by
// fs/native/hushfs.c from a table in C memory, so no request waits for the JS thread.
//
// This file keeps that table equal to the NodeSecrets view. The first time it sends the whole view
// (setTree); then, on every NodeSecrets change (onChange, called synchronously at the end of
// apply/replaceAll, with what changed), it copies in the new versions, replaces only the directories
// that changed (paths with their attributes, each file bound to its handle binding and its version)
// and, in the same step under the C write lock, revokes the bindings that are gone (updateTree); then
// it drops the versions NodeSecrets dropped. A change costs what it touches, not what the node holds.
// So when apply() returns, the served view is the new one, exactly as with
// fuse-native: removed files are ENOENT, every handle on a removed reference fails its next read with
// EACCES, an open handle keeps reading the version it opened across a rotation, and a version's C copy
// is zeroed and freed with its last handle.
//
// NodeSecrets keeps its own buffers as before (nothing else changes); this engine never holds them
// (VersionHolds is for fuse-native's handles): its handles are in C (see NativeEngineMount.stats).

interface EngineStats {
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
}

type Engine = { readonly __brand: 'hushfs-engine' };
type RootEntry = readonly [key: number, name: string];
type DirRow = [path: string, uid: number, gid: number, mode: number, mtimeMs: number, names: string[]];
type FileRow = [path: string, uid: number, gid: number, mode: number, mtimeMs: number, binding: string, version: string];

interface HushFsAddon {
  create(rootTimeMs: number): Engine;
  putBlob(engine: Engine, id: string, data: Buffer): void;
  dropBlob(engine: Engine, id: string): void;
  /** Returns how many files were left out because their version was not registered (0 normally). */
  setTree(engine: Engine, root: RootEntry[], dirs: DirRow[], files: FileRow[], liveBindings: string[]): number;
  /**
   * In place, in one step: removes the root entries (by key) and the directories at dirPaths with their
   * files, puts in the rows and the root entries, revokes the bindings. Returns as setTree.
   */
  updateTree(engine: Engine, rootRemoved: readonly number[], rootAdded: readonly RootEntry[], dirPaths: string[], dirs: DirRow[], files: FileRow[], revokedBindings: readonly string[]): number;
  mount(engine: Engine, mountPoint: string, options: string, onEvent: (event: 'init' | 'exit') => void): void;
  unref(engine: Engine): void;
  stats(engine: Engine): EngineStats;
}

const ADDON = join('fs', 'native', 'build', 'Release', 'hush_fs_engine.node');
const MOUNT_TIMEOUT_MS = 10_000;

let addon: HushFsAddon | undefined;

function loadAddon(): HushFsAddon {
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

/** Keeps the engine's table equal to the NodeSecrets view. */
class Mirror {
  /** Version key → the NodeSecrets buffer copied into C under that key. */
  private pushed = new Map<string, Buffer>();
  /** The C table equals the view: the next change can be sent as a delta. */
  private inStep = false;

  constructor(private readonly hushfs: HushFsAddon, private readonly engine: Engine, private readonly secrets: ViewSource) {}

  /** Sends the whole view (the first time, and after a failure). */
  syncAll(): void {
    this.failClosed(() => this.applyAll(this.secrets.view()));
  }

  /** Sends one change; the whole view instead if the table is not in step. */
  update(delta: ViewDelta): void {
    if (!this.inStep) return this.syncAll();
    this.failClosed(() => this.applyDelta(delta));
  }

  /** Empties the served tree and revokes every handle; drops every version. */
  clear(): void {
    this.inStep = false;
    this.hushfs.setTree(this.engine, [], [], [], []);
    for (const key of this.pushed.keys()) this.hushfs.dropBlob(this.engine, key);
    this.pushed.clear();
  }

  private failClosed(step: () => void): void {
    try {
      step();
      this.inStep = true;
    } catch (err) {
      // Fail closed: serve nothing and revoke every handle rather than a stale view.
      this.clear();
      throw err;
    }
  }

  private applyAll(view: ViewSnapshot): void {
    // 1. New versions (and a key whose buffer NodeSecrets replaced) into C memory.
    for (const [key, data] of view.versions) this.push(key, data);
    // 2. The tree, and revocation of the bindings that are gone, in one step.
    const root = view.rootNames.map((name, i): RootEntry => [view.rootKeys[i], name]);
    const missing = this.hushfs.setTree(this.engine, root, view.dirs.map(dirRow), view.files.map(fileRow), view.bindings);
    if (missing !== 0) throw new Error(`hush: native engine: ${missing} files without their version`);
    // 3. Versions NodeSecrets no longer holds: zeroed in C now, or with the last handle reading them.
    for (const key of [...this.pushed.keys()]) if (!view.versions.has(key)) this.drop(key);
  }

  private applyDelta(delta: ViewDelta): void {
    for (const [key, data] of delta.versions) if (data) this.push(key, data);
    // The changed directories are removed with their old files and put in again from their new rows.
    const { dirs, files } = this.secrets.rows(delta.changedDirs);
    const dirPaths = [...delta.removedDirs, ...delta.changedDirs].map((name) => '/' + name);
    const missing = this.hushfs.updateTree(this.engine, delta.rootRemoved, delta.rootAdded, dirPaths, dirs.map(dirRow), files.map(fileRow), delta.revokedBindings);
    if (missing !== 0) throw new Error(`hush: native engine: ${missing} files without their version`);
    for (const [key, data] of delta.versions) if (!data) this.drop(key);
  }

  private push(key: string, data: Buffer): void {
    if (this.pushed.get(key) === data) return;
    this.hushfs.putBlob(this.engine, key, data);
    this.pushed.set(key, data);
  }

  private drop(key: string): void {
    if (!this.pushed.delete(key)) return;
    this.hushfs.dropBlob(this.engine, key);
  }
}

const dirRow = (d: ViewDir): DirRow => [d.path, d.uid, d.gid, d.mode, d.mtimeMs, d.names];
const fileRow = (f: ViewFile): FileRow => [f.path, f.uid, f.gid, f.mode, f.mtimeMs, f.binding, f.version];

export interface NativeEngineMount extends MountedSecrets {
  /** The engine's own counters (open handles, versions in C memory, ...). */
  stats(): EngineStats;
  /** Resolves when the FUSE loop has ended (after unmount, once the last open file is closed). */
  readonly ended: Promise<void>;
}

/**
 * mountSecrets (fs/mount.ts) with the native engine: same mount point handling, same options, same
 * view; resolves once the kernel has initialised the connection.
 */
export async function mountSecretsNative(mountPoint: string, secrets: ViewSource, log?: Logger): Promise<NativeEngineMount> {
  const mp = await canonicalMountPoint(mountPoint);
  const native = nativeSys(); // fail early if the addon is not built: we could not unmount
  const hushfs = loadAddon();
  await prepareMountPoint(mp, log);

  const engine = hushfs.create(Date.now());
  const mirror = new Mirror(hushfs, engine, secrets);
  const update = (delta: ViewDelta) => {
    try {
      mirror.update(delta);
    } catch (err) {
      log?.error({ err: err instanceof Error ? err.message : String(err) }, 'native FUSE engine: update failed; serving nothing');
    }
  };
  mirror.syncAll();
  const stopFollowing = secrets.onChange(update);

  let onInit: () => void = () => {};
  let onEnd: () => void = () => {};
  const initialised = new Promise<void>((ok, fail) => {
    onInit = ok;
    onEnd = () => fail(new Error('the FUSE loop ended before INIT'));
  });
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((r) => (resolveEnded = r));
  const onEvent = (event: 'init' | 'exit') => {
    if (event === 'init') return onInit();
    onEnd();
    // The connection is gone: nothing can read the table any more. Zero and drop it.
    stopFollowing();
    mirror.clear();
    resolveEnded();
  };

  let timer: NodeJS.Timeout | undefined;
  try {
    hushfs.mount(engine, mp, MOUNT_OPTIONS.join(','), onEvent);
    await Promise.race([
      initialised,
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`timed out after ${MOUNT_TIMEOUT_MS} ms`)), MOUNT_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    try {
      detachUnmountIfMounted(mp);
    } catch {
      // reported below
    }
    try {
      hushfs.unref(engine);
    } catch {
      // not mounted
    }
    stopFollowing();
    mirror.clear();
    throw new Error(`hush: FUSE mount (native engine) at ${mp} failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
  // /dev/fuse is already close-on-exec (hushfs.c); libfuse's auto_unmount control socket is not.
  const marked = native.cloexecFuseFds();

  const mine = await ownMount(mp);
  log?.info({ mountPoint: mp, mountId: mine?.id, options: MOUNT_OPTIONS.join(','), cloexecMarked: marked, engine: 'native' }, 'secrets mounted');

  let unmounted: Promise<void> | undefined;
  return {
    mountPoint: mp,
    ended,
    stats: () => hushfs.stats(engine),
    unmount() {
      unmounted ??= (async () => {
        await detachOwnMount(mp, mine);
        // The loop serves files still open (revocation keeps working) and ends by itself once the
        // kernel drops the connection; it no longer keeps the process alive.
        hushfs.unref(engine);
        log?.info({ mountPoint: mp }, 'secrets unmounted');
      })();
      return unmounted;
    },
  };
}
