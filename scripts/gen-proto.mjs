#!/usr/bin/env node
// Generates the typed grpc-js definitions for proto/hush.proto into proto/gen/.
// `--check` regenerates into a temporary directory and fails if proto/gen/ differs,
// so a stale commit of the generated code is caught in CI.
// The options here must match proto/load.ts (the runtime loader).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const outDir = check ? mkdtempSync(join(tmpdir(), 'hush-proto-')) : join(root, 'proto', 'gen');
if (!check) rmSync(outDir, { recursive: true, force: true });

execFileSync(join(root, 'node_modules', '.bin', 'proto-loader-gen-types'), [
  '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--grpcLib=@grpc/grpc-js',
  '-I', join(root, 'proto'), '-O', outDir, 'hush.proto',
], { stdio: 'inherit' });

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

// Node's ESM resolver needs explicit extensions: rewrite relative imports to '.js'.
// The generator also records the absolute source path: make it relative so the
// output is the same in every checkout.
for (const f of files(outDir)) {
  const src = readFileSync(f, 'utf8')
    .replace(/from '(\.{1,2}\/[^']+)'/g, "from '$1.js'")
    .replace(/^\/\/ Original file: .*\/proto\/([^/\n]+)$/gm, '// Original file: proto/$1');
  writeFileSync(f, src);
}

if (check) {
  const committed = join(root, 'proto', 'gen');
  const want = files(outDir).map((f) => relative(outDir, f)).sort();
  const have = existsSync(committed) ? files(committed).map((f) => relative(committed, f)).sort() : [];
  const stale = want.filter((f) => !have.includes(f) || readFileSync(join(outDir, f), 'utf8') !== readFileSync(join(committed, f), 'utf8'))
    .concat(have.filter((f) => !want.includes(f)));
  rmSync(outDir, { recursive: true, force: true });
  if (stale.length) {
    console.error(`proto/gen is out of date (${stale.join(', ')}): run npm run proto:gen`);
    process.exit(1);
  }
  console.log('proto/gen is up to date');
}
