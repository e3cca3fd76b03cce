// Checks on what a manager leaves in its state directory: no plaintext, tight modes.
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Needle {
  /** What to call it in a failure message (never the value itself). */
  label: string;
  bytes: Buffer;
}

export const needle = (label: string, value: string | Buffer): Needle =>
  ({ label, bytes: typeof value === 'string' ? Buffer.from(value) : value });

/** Every regular file under dir (recursively), with its full content. */
export function readAllFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        try {
          files.set(p, readFileSync(p));
        } catch (e) {
          // A temp file renamed away between readdir and read.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    }
  };
  walk(dir);
  return files;
}

/** Asserts that none of the needles occurs anywhere in any file under dir; returns what was scanned. */
export function assertNoPlaintext(dir: string, needles: Needle[], when: string): { files: string[]; bytes: number } {
  const files = readAllFiles(dir);
  assert.ok(files.size > 0, `no files in ${dir}`);
  let bytes = 0;
  for (const [path, content] of files) {
    bytes += content.length;
    for (const n of needles) {
      assert.ok(n.bytes.length >= 16, `needle ${n.label} is too short to be meaningful`);
      assert.equal(content.indexOf(n.bytes), -1, `${n.label} found in plaintext in ${path} (${when})`);
    }
  }
  return { files: [...files.keys()].sort(), bytes };
}

/** The state dir is 0700 and everything in it 0600 (the control socket included, while it exists). */
export function assertStateModes(dir: string): string[] {
  const seen: string[] = [];
  assert.equal(lstatSync(dir).mode & 0o777, 0o700, `${dir} must be mode 0700`);
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let st;
      try {
        st = lstatSync(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (st.isDirectory()) {
        assert.equal(st.mode & 0o777, 0o700, `${p} must be mode 0700`);
        walk(p);
        continue;
      }
      assert.ok(st.isFile() || st.isSocket(), `${p} is neither a file nor a socket`);
      assert.equal((st.mode & 0o777).toString(8), '600', `${p} must be mode 0600`);
      seen.push(name);
    }
  };
  walk(dir);
  return seen.sort();
}
