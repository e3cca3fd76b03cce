// Prints the test summary by tier from the JSON files of scripts/tier-reporter.mjs,
// ending with the plain closing line CI reads: "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';
import { TIER_NAMES } from './tier-reporter.mjs';

const total = Object.fromEntries(TIER_NAMES.map((n) => [n, { passed: 0, failed: 0, skipped: 0, files: 0 }]));
const skips = [];
for (const file of process.argv.slice(2)) {
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const part = JSON.parse(line);
    for (const [name, c] of Object.entries(part.tiers)) for (const k of Object.keys(c)) total[name][k] += c[k];
    skips.push(...part.skips);
  }
}
console.log('\n== summary by tier');
const sum = { passed: 0, failed: 0, skipped: 0 };
for (const name of TIER_NAMES) {
  const c = total[name];
  const state = c.passed + c.failed > 0 ? 'ran    ' : 'NOT RUN';
  console.log(`${name.padEnd(12)} ${state}  ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${c.files} files)`);
  for (const k of Object.keys(sum)) sum[k] += c[k];
}
if (skips.length) console.log(['skipped, with reasons:', ...skips.map((s) => `  - ${s}`)].join('\n'));
console.log(`tests: ${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
