import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ServedState } from '../view.js';
import { detachUnmountIfMounted, nativeSys } from '../../common/native.js';
import { createOps } from '../ops.js';
import { FuseNativeHandles } from './fuse-native-handles.js';
import { canonicalMountPoint, detachOwnMount, ownMount, prepareMountPoint, withTimeout } from '../mountpoint.js';
import { MOUNT_OPTIONS, type MountedSecrets } from './engine.js';

// The fuse-native engine (HUSH_FS_ENGINE=fuse-native; fs/mount.ts): mounts the read-only FUSE view
// (fs/ops.ts, every request answered on the JS thread) with fuse-native, and unmounts it without ever
// spawning a process.
//
// Rules this file keeps (see shared/reference/behaviour.md, "FUSE facts measured on this machine"):
//  - no child process: fuse-native's Fuse.unmount()/fuse.unmount()/close() and its `force` option
//    exec `fusermount -uz`; we detach with umount2(MNT_DETACH) from our own addon instead, and mark
//    the /dev/fuse descriptor close-on-exec so that no child of this process can ever inherit it;
//  - no blocking of the event loop: everything here is async, except the one-off mount call inside
//    fuse-native and umount2(MNT_DETACH), which does not wait for the file system;
//  - revocation: direct_io and zero entry/attr/negative timeouts, so every lookup and read reaches
//    the view and the handles (fs/engines/fuse-native-handles.ts). direct_io also makes MAP_SHARED fail with ENODEV (libfuse2 cannot negotiate
//    FUSE_DIRECT_IO_ALLOW_MMAP; README, "Memory maps"; tested in fs/test/view-scenarios.ts).

/**
 * fuse-native's options. fuse-native 2.2.6 (pinned exactly in package.json; re-check on any upgrade):
 * every option value is truthiness-tested (so zero timeouts are the string '0'), it has no option for
 * `ro`, `direct_io` or `negative_timeout`, and it joins `name=value` pairs with commas into one `-o`
 * string that libfuse splits on commas again: the fsname value carries the three missing options.
 */
const FUSE_NATIVE_OPTIONS = {
  allowOther: true,
  autoUnmount: true,
  defaultPermissions: true,
  fsname: 'hush,ro,direct_io,negative_timeout=0',
  entryTimeout: '0',
  attrTimeout: '0',
  // No per-request timer: every handler answers synchronously (the default arms a 15 s setTimeout per request).
  timeout: false,
  // Never `force`: it execs fusermount. The mount point is prepared here (mkdir: false).
  force: false,
  mkdir: false,
} as const;

const MOUNT_TIMEOUT_MS = 10_000;

// ---- fuse-native, loaded the CommonJS way ----

interface FuseInstance {
  _thread: Buffer | null;
  mount(cb: (err: Error | null) => void): void;
}
type FuseClass = new (mnt: string, ops: object, opts: object) => FuseInstance;
interface FuseBinding {
  fuse_native_unmount(mnt: string, thread: Buffer): void;
}

let fuseNative: { Fuse: FuseClass; binding: FuseBinding } | undefined;

function loadFuseNative(): { Fuse: FuseClass; binding: FuseBinding } {
  if (fuseNative) return fuseNative;
  const req = createRequire(import.meta.url);
  const Fuse = req('fuse-native') as FuseClass;
  // fuse-native does not export its binding; node-gyp-build resolved from fuse-native's own directory
  // returns the same (cached) native module it uses.
  const fuseDir = dirname(req.resolve('fuse-native/package.json'));
  const nodeGypBuild = createRequire(join(fuseDir, 'index.js'))('node-gyp-build') as (dir: string) => FuseBinding;
  fuseNative = { Fuse, binding: nodeGypBuild(fuseDir) };
  return fuseNative;
}

export interface FuseNativeMount extends MountedSecrets {
  /** The engine's own counters: its open file handles (revoked ones included, until released). */
  stats(): { handles: number };
}

/** The fuse-native engine's MountEngine (fs/engines/engine.ts). */
export async function mountSecretsFuseNative(mountPoint: string, secrets: ServedState, log?: Logger): Promise<FuseNativeMount> {
  const mp = await canonicalMountPoint(mountPoint);
  const native = nativeSys(); // fail early if the addon is not built: we could not unmount
  await prepareMountPoint(mp, log);

  const { Fuse, binding } = loadFuseNative();
  const handles = new FuseNativeHandles(secrets);
  const ops = createOps(secrets, handles, {
    rootTimeMs: Date.now(),
    onError: (op, err) => log?.error({ op, err: err instanceof Error ? err.message : String(err) }, 'FUSE handler failed'),
  });
  const fuse = new Fuse(mp, ops, FUSE_NATIVE_OPTIONS);
  try {
    await withTimeout(
      new Promise<void>((ok, fail) => fuse.mount((err) => (err ? fail(err) : ok()))),
      MOUNT_TIMEOUT_MS,
      `mount at ${mp}`,
    );
  } catch (err) {
    // fuse-native can fail after the kernel mount exists (fuse_new, INIT never answered): do not leave it.
    try {
      detachUnmountIfMounted(mp);
    } catch {
      // reported below
    }
    if (fuse._thread) binding.fuse_native_unmount(mp, fuse._thread);
    throw new Error(`hush: FUSE mount at ${mp} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  // libfuse2 got /dev/fuse (and, for auto_unmount, a control socket to its fusermount helper) without
  // O_CLOEXEC: a child process would keep the connection alive after this process dies and every
  // access would hang (D state). This process spawns none, and no child could inherit them anyway.
  const marked = native.cloexecFuseFds();

  const mine = await ownMount(mp);
  log?.info({ mountPoint: mp, mountId: mine?.id, options: MOUNT_OPTIONS.join(','), cloexecMarked: marked }, 'secrets mounted');

  let unmounted: Promise<void> | undefined;
  return {
    mountPoint: mp,
    stats: () => ({ handles: handles.openHandles }),
    // The payloads are NodeSecrets' JS buffers, which V8 may move and which nothing here can lock.
    memoryLock: () => ({ state: 'unsupported', failures: 0 }),
    unmount() {
      unmounted ??= (async () => {
        await detachOwnMount(mp, mine);
        // What fuse-native's _close does after `fusermount -uz`: unref its uv_async so the loop can exit.
        // The FUSE thread ends by itself once the kernel drops the connection (last open file closed).
        if (fuse._thread) binding.fuse_native_unmount(mp, fuse._thread);
        log?.info({ mountPoint: mp }, 'secrets unmounted');
      })();
      return unmounted;
    },
  };
}
