// The tree's layering, checked on the sources: which top-level directory may import which.
//   fs/       a view over the agent's state, with no network code: imports neither agent/ nor manager/
//             (fs/view.ts defines what it serves; its tests run it over the agent's real NodeSecrets)
//   manager/  never the node side (agent/, fs/), tests included
//   agent/    never the manager (manager/), tests included: they meet only through proto/
//   common/, proto/  below everything: import none of the product's directories
//   cli/ is the entry point of every command and may load any of them
//   product code never imports integration/ or bench/; tests that cross the manager/node line live in integration/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { packageRoot } from './package.js';

const ROOT = packageRoot();
const TOP = ['agent', 'bench', 'cli', 'common', 'fs', 'integration', 'manager', 'proto', 'scripts'];
const PRODUCT = ['agent', 'cli', 'common', 'fs', 'manager', 'proto'];

/** Directories a file under `from` must not import (`test`: the file is a test or a test helper). */
function forbidden(from: string, isTest: boolean): string[] {
  const never = isTest ? [] : ['integration', 'bench'];
  switch (from) {
    case 'fs': return isTest ? ['manager', 'cli'] : [...never, 'agent', 'manager', 'cli'];
    case 'manager': return [...never, 'agent', 'fs', 'cli'];
    case 'agent': return [...never, 'manager', 'cli'];
    case 'common': case 'proto': return [...never, 'agent', 'manager', 'fs', 'cli'];
    default: return [];
  }
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' || e.name === 'gen' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every relative import in the tree as [importing file, imported top-level directory]. */
function imports(): Array<[file: string, target: string]> {
  const out: Array<[string, string]> = [];
  for (const top of TOP) {
    let files: string[];
    try { files = sources(join(ROOT, top)); } catch { continue; }
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const spec = m[1] ?? m[2];
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, resolve(dirname(file), spec)).split('/')[0];
        out.push([relative(ROOT, file), target]);
      }
    }
  }
  return out;
}

const isTestFile = (file: string) => /\.test\.ts$/.test(file) || /\/test(ing)?\//.test(file) || /\/testdata\//.test(file);

test('the layering holds: no import goes the wrong way', () => {
  const all = imports();
  assert.ok(all.length > 200, `the scan found the imports (${all.length})`);
  const wrong = all.filter(([file, target]) => forbidden(file.split('/')[0], isTestFile(file)).includes(target));
  assert.deepEqual(wrong.map(([f, t]) => `${f} → ${t}/`), []);
});

test('the scan sees a wrong-way import when there is one', () => {
  assert.deepEqual(forbidden('fs', false).includes('agent'), true);
  // Built from parts, so this file's own scan does not read it as an import.
  const sample = ['import { x } fr', "om '../agent/secrets/node-secrets.js';\nconst y = await imp", "ort('../manager/manager.js');"].join('');
  assert.deepEqual([...sample.matchAll(IMPORT)].map((m) => m[1] ?? m[2]), ['../agent/secrets/node-secrets.js', '../manager/manager.js']);
  assert.ok(PRODUCT.every((d) => TOP.includes(d)));
});
