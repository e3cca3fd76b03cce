import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import type { ViewDelta, ViewDir, ViewFile, ViewSnapshot, ViewSource } from '../view.js';
import { detachUnmountIfMounted, nativeSys } from '../../common/native.js';
import { MOUNT_OPTIONS, type MemoryLock, type MountedSecrets } from './engine.js';
import { canonicalMountPoint, detachOwnMount, ownMount, prepareMountPoint } from '../mountpoint.js';
import { loadAddon, type DirRow, type Engine, type EngineStats, type FileRow, type HushFsAddon, type RootEntry } from './native-addon.js';

export { nativeEngineAvailable } from './native-addon.js';

// The native FUSE engine, the default one (HUSH_FS_ENGINE=fuse-native picks the other, see fs/mount.ts):
// the same read-only view as fs/ops.ts over fuse-native, but every FUSE request is answered on
// libfuse's own threads by the addon (fs/native/hushfs_*.c; its API: fs/engines/native-addon.ts) from a
// table in C memory, so no request waits for the JS thread.
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
// Who zeroes what: the C copy of a version is the addon's (zeroed in C with its last reference, or when
// the FUSE loop ends); the Buffer it was copied from is NodeSecrets' own payload, which NodeSecrets
// zeroes when it drops that version. This file only holds references to those Buffers (`pushed`, to
// tell whether a key's buffer was replaced) and makes no copy of its own.
//
// NodeSecrets' open()/read()/release() are not used by this engine, so its openHandles stays 0 (see
// NativeEngineMount.stats for the engine's).

const MOUNT_TIMEOUT_MS = 10_000;

/** Keeps the engine's table equal to the NodeSecrets view. */
class Mirror {
  /** Version key → the NodeSecrets buffer copied into C under that key. */
  private pushed = new Map<string, Buffer>();
  /** The C table equals the view: the next change can be sent as a delta. */
  private inStep = false;

  constructor(
    private readonly hushfs: HushFsAddon,
    private readonly engine: Engine,
    private readonly secrets: ViewSource,
    /** A version copied into C memory that could not be locked (mlock). */
    private readonly onUnlocked: () => void,
  ) {}

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
    if (!this.hushfs.putBlob(this.engine, key, data)) this.onUnlocked();
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
export function mountSecretsNative(mountPoint: string, secrets: ViewSource, log?: Logger): Promise<NativeEngineMount> {
  return mountWith('native', mountPoint, secrets, log);
}

/**
 * The same on libfuse's low-level API (HUSH_FS_ENGINE=native-ll; fs/native/hushfs_ll.c): stable inode
 * numbers and file handles a later process could be given (issue 11). Same table, options and view.
 */
export function mountSecretsNativeLowLevel(mountPoint: string, secrets: ViewSource, log?: Logger): Promise<NativeEngineMount> {
  return mountWith('native-ll', mountPoint, secrets, log);
}

async function mountWith(name: 'native' | 'native-ll', mountPoint: string, secrets: ViewSource, log?: Logger): Promise<NativeEngineMount> {
  const mp = await canonicalMountPoint(mountPoint);
  const native = nativeSys(); // fail early if the addon is not built: we could not unmount
  const hushfs = loadAddon();
  await prepareMountPoint(mp, log);

  const engine = hushfs.create(Date.now());
  let unlockedLogged = false;
  const mirror = new Mirror(hushfs, engine, secrets, () => {
    if (unlockedLogged) return;
    unlockedLogged = true; // once: `hush agent status` shows the count
    const errno = hushfs.stats(engine).mlockErrno;
    const code = Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? String(errno);
    log?.warn({ errno: code }, 'cannot lock secret memory (mlock failed; ENOMEM: over RLIMIT_MEMLOCK without CAP_IPC_LOCK): secrets may be swapped out; raise LimitMEMLOCK (the hush-agent unit sets infinity)');
  });
  const memoryLock = (): MemoryLock => {
    const failures = hushfs.stats(engine).mlockFailures;
    return { state: failures === 0 ? 'locked' : 'failing', failures };
  };
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
    if (name === 'native-ll') hushfs.mountLowLevel(engine, mp, MOUNT_OPTIONS.join(','), onEvent);
    else hushfs.mount(engine, mp, MOUNT_OPTIONS.join(','), onEvent);
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
  // /dev/fuse is already close-on-exec (fs/native/hushfs_hl.c, hushfs_ll.c); libfuse's auto_unmount control socket is not.
  const marked = native.cloexecFuseFds();

  const mine = await ownMount(mp);
  log?.info({ mountPoint: mp, mountId: mine?.id, options: MOUNT_OPTIONS.join(','), cloexecMarked: marked, engine: name }, 'secrets mounted');

  let unmounted: Promise<void> | undefined;
  return {
    mountPoint: mp,
    ended,
    stats: () => hushfs.stats(engine),
    memoryLock,
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
