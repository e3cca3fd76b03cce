import { chmod, mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { detachUnmountIfMounted } from '../common/native.js';
import { isFuse, mountInfoAt, type MountInfoEntry } from './mountinfo.js';

// The mount point, for every engine: made ready before a mount (stale FUSE mounts detached, the
// directory created), our own mount found after it, and only that one detached at unmount. No child
// process: detaching is umount2(MNT_DETACH) from the system-call addon (common/native).

const STAT_TIMEOUT_MS = 2_000;
const MAX_DETACH = 16;

/** The canonical path of a mount point that may itself be a dead mount (only its parent is resolved). */
export async function canonicalMountPoint(mountPoint: string): Promise<string> {
  const abs = resolve(mountPoint);
  if (abs === '/') throw new Error('hush: refusing to mount secrets on /');
  let parent = dirname(abs);
  try {
    parent = await realpath(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return join(parent, basename(abs));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hush: ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Detaches whatever FUSE file system is mounted at `mountPoint` (a stale mount left by a killed agent,
 * or one whose daemon no longer answers: stat → ENOTCONN), then makes sure the mount point is a
 * directory, creating it 0755 if missing.
 */
export async function prepareMountPoint(mountPoint: string, log?: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (attempt >= MAX_DETACH) throw new Error(`hush: cannot clear the FUSE mounts at ${mountPoint}`);
    const fuseMounts = (await mountInfoAt(mountPoint)).filter((m) => isFuse(m.fstype));
    if (fuseMounts.length > 0) {
      const top = fuseMounts[fuseMounts.length - 1];
      log?.warn({ mountPoint, fstype: top.fstype, source: top.source, mountId: top.id }, 'detaching a FUSE mount left at the mount point');
      detachUnmountIfMounted(mountPoint);
      continue;
    }
    let st;
    try {
      st = await withTimeout(stat(mountPoint), STAT_TIMEOUT_MS, `stat ${mountPoint}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTCONN') {
        log?.warn({ mountPoint }, 'mount point is a dead FUSE mount (ENOTCONN); detaching it');
        if (!detachUnmountIfMounted(mountPoint)) throw new Error(`hush: ${mountPoint} is not connected and cannot be detached`);
        continue;
      }
      if (code !== 'ENOENT') throw err;
      await mkdir(mountPoint, { recursive: true, mode: 0o755 });
      await chmod(mountPoint, 0o755);
      log?.info({ mountPoint }, 'created the mount point');
      return;
    }
    if (!st.isDirectory()) throw new Error(`hush: mount point ${mountPoint} is not a directory`);
    return;
  }
}

/** The FUSE mount on top at `mountPoint` (canonical path) just after mounting: ours. */
export async function ownMount(mountPoint: string): Promise<MountInfoEntry | undefined> {
  return (await mountInfoAt(mountPoint)).filter((m) => isFuse(m.fstype)).pop();
}

/** Detaches our own mount (see ownMount): if it is already gone and another one sits there, leaves that alone. */
export async function detachOwnMount(mountPoint: string, mine: MountInfoEntry | undefined): Promise<void> {
  const top = (await mountInfoAt(mountPoint)).pop();
  if (top && (mine === undefined || top.id === mine.id)) detachUnmountIfMounted(mountPoint);
}
