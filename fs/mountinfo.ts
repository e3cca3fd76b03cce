import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

// The one parser of /proc/PID/mountinfo (proc(5)), for the engines, the anchors and the tests alike.

export interface MountInfoEntry {
  id: number;
  parentId: number;
  mountPoint: string;
  /** Per-mount options (ro, nosuid, ...). */
  mountOptions: string[];
  /** Optional fields: propagation (shared:N, master:N, propagate_from:N, unbindable). */
  optional: string[];
  fstype: string;
  source: string;
  /** Per-superblock options (default_permissions, allow_other, user_id=..., ...). */
  superOptions: string[];
}

const MOUNTINFO = '/proc/self/mountinfo';

/** mountinfo writes space, tab, newline and backslash in paths as \ooo (octal). */
const unescapeMountinfo = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** The entries of a mountinfo text, in its order (parents before children; a stack at one path bottom to top). */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 4) continue;
    out.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      mountPoint: unescapeMountinfo(fields[4]),
      mountOptions: fields[5].split(','),
      optional: fields.slice(6, sep),
      fstype: fields[sep + 1],
      source: unescapeMountinfo(fields[sep + 2]),
      superOptions: fields[sep + 3].split(','),
    });
  }
  return out;
}

/** Every mount of this process's mount namespace, in /proc/self/mountinfo order (parents before children). */
export async function readMountInfo(): Promise<MountInfoEntry[]> {
  return parseMountInfo(await readFile(MOUNTINFO, 'utf8'));
}

/**
 * readMountInfo, synchronously: for exit handlers and cleanups of the tests and benches, which cannot
 * wait (reading mountinfo never reaches a FUSE daemon). [] when it cannot be read.
 */
export function readMountInfoSync(): MountInfoEntry[] {
  try {
    return parseMountInfo(readFileSync(MOUNTINFO, 'utf8'));
  } catch {
    return [];
  }
}

/** The mounts of this process's mount namespace at `mountPoint` (canonical path), bottom to top. */
export async function mountInfoAt(mountPoint: string): Promise<MountInfoEntry[]> {
  return (await readMountInfo()).filter((m) => m.mountPoint === mountPoint);
}

/** The shared peer group id of a mount (from `shared:N`), if it is shared. */
export function peerGroup(m: MountInfoEntry): number | undefined {
  const f = m.optional.find((o) => o.startsWith('shared:'));
  return f === undefined ? undefined : Number(f.slice('shared:'.length));
}

/** Whether `path` is strictly below `dir`. */
export const isUnder = (path: string, dir: string) => path.startsWith(dir.endsWith('/') ? dir : dir + '/');

/**
 * The mount points at or below `dir` among `mounts`, deepest first, a path once per mount stacked there:
 * the order in which `umount -l PATH` detaches them all.
 */
export function mountPointsUnder(mounts: readonly MountInfoEntry[], dir: string): string[] {
  return mounts.map((m) => m.mountPoint).filter((p) => p === dir || isUnder(p, dir)).sort((a, b) => b.length - a.length);
}

/** A FUSE file system type (fuse, fuse.NAME, fuseblk, fuseblk.NAME). */
export const isFuse = (fstype: string) => fstype === 'fuse' || fstype.startsWith('fuse.') || fstype === 'fuseblk' || fstype.startsWith('fuseblk.');
