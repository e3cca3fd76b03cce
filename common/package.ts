import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The hush package root: the nearest ancestor of `from` (default: this module) holding package.json
 * and common/native/binding.gyp. Works from the sources (common/) and the compiled code (dist/common/).
 */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'common', 'native', 'binding.gyp'))) return dir;
    if (dirname(dir) === dir) throw new Error('hush: the package root (with common/native/binding.gyp) is not above this program');
  }
}
