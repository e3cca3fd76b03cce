// A small real filesystem that can be filled up: a tmpfs mounted (we are root) for one test.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** The mount point (mode 0700). */
  dir: string;
  /** Writes a filler file until the filesystem refuses more (ENOSPC); returns the bytes written. */
  fill(): number;
  /** Deletes the filler file. */
  free(): void;
  /** Unmounts and removes the mount point (idempotent). */
  remove(): void;
}

const FILLER = '.filler';

/** Mounts a tmpfs of sizeBytes at a fresh temporary directory. */
export function mountSmallDisk(sizeBytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'hush-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(join(dir, FILLER), 'a');
      let total = 0;
      try {
        // Big chunks first, then ever smaller ones, down to a single byte.
        for (let chunk = 1 << 20; chunk >= 1; chunk >>= 2) {
          const buf = Buffer.alloc(chunk, 0x5a);
          for (;;) {
            try {
              total += writeSync(fd, buf);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return total;
    },
    free() {
      rmSync(join(dir, FILLER), { force: true });
    },
    remove() {
      if (mounted) {
        execFileSync('umount', [dir], { stdio: 'pipe' });
        mounted = false;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
