// Looking at this process's mounts (fs/mountinfo.ts, the product's own parser) and lazily unmounting
// (`umount -l`, a child process with a timeout) what the processes under test left behind.
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { mountPointsUnder, readMountInfo, readMountInfoSync, type MountInfoEntry } from '../../fs/mountinfo.js';
import { run } from './proc.js';
import { waitUntil } from '../../common/testing/wait.js';

export type { MountInfoEntry };

/** Every mount of this mount namespace. */
export async function allMounts(): Promise<MountInfoEntry[]> {
  return readMountInfo();
}

/** The mount points at or below `dir` now, deepest first (synchronous: for exit handlers and cleanups). */
export function mountPointsUnderSync(dir: string): string[] {
  return mountPointsUnder(readMountInfoSync(), dir);
}

/** The canonical path of a mount point that may be a dead mount (only its parent is resolved). */
export async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return join(await realpath(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/** The mounts at `path` (bottom to top). */
export async function mountsAt(path: string): Promise<MountInfoEntry[]> {
  const mp = await canonical(path);
  return (await allMounts()).filter((m) => m.mountPoint === mp);
}

/** Resolves once nothing is mounted at `path` any more (false after timeoutMs). */
export async function waitUnmounted(path: string, timeoutMs = 5000): Promise<boolean> {
  return waitUntil(`nothing mounted at ${path}`, async () => (await mountsAt(path)).length === 0, timeoutMs).catch(() => false);
}

/** Waits briefly for the agent's own unmount (or auto_unmount), then `umount -l` whatever is left. */
export async function ensureUnmounted(path: string): Promise<void> {
  if (await waitUnmounted(path, 2000)) return;
  for (let i = 0; i < 8 && (await mountsAt(path)).length > 0; i++) {
    await run('umount', ['-l', await canonical(path)], { timeoutMs: 5000 });
  }
}

/** `umount -l` of every mount at or below `dir` (deepest first), e.g. an agent's anchor directory. */
export async function unmountTree(dir: string): Promise<void> {
  const root = await canonical(dir);
  for (let i = 0; i < 8; i++) {
    const left = mountPointsUnder(await allMounts(), root);
    if (left.length === 0) return;
    for (const p of left) await run('umount', ['-l', p], { timeoutMs: 5000 });
  }
}
