// A node:test reporter that sorts top-level tests into CI tiers by file and writes their
// counts and every skip with its reason as JSON; scripts/tier-summary.mjs prints the
// summary, so a tier that could not run (no Docker, no nspawn) is never a silent pass.

const TIERS = [
  ['containers', /\/integration\/containers\.test\.js$/],
  ['systemd', /\/integration\/systemd\.test\.js$/],
  ['integration', /\/integration\//],
  ['unit', /./],
];

function tierOf(file) {
  return TIERS.find(([, re]) => re.test(file ?? ''))[0];
}

export const TIER_NAMES = TIERS.map(([name]) => name);

export default async function* tierReporter(source) {
  const counts = new Map(TIERS.map(([name]) => [name, { passed: 0, failed: 0, skipped: 0, files: new Set() }]));
  const skips = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    // Count each file's own tests (nesting 0), not the runner's per-file wrapper.
    if (data.nesting !== 0) continue;
    if (!data.file || data.name === data.file) continue;
    const c = counts.get(tierOf(data.file));
    c.files.add(data.file);
    if (data.skip !== undefined || data.todo !== undefined) {
      c.skipped++;
      const why = typeof data.skip === 'string' ? data.skip : typeof data.todo === 'string' ? `todo: ${data.todo}` : 'no reason given';
      skips.push(`${tierOf(data.file)}: ${data.name}: ${why}`);
    } else if (event.type === 'test:pass') c.passed++;
    else c.failed++;
  }
  const tiers = Object.fromEntries([...counts].map(([name, c]) => [name, { passed: c.passed, failed: c.failed, skipped: c.skipped, files: c.files.size }]));
  yield JSON.stringify({ tiers, skips }) + '\n';
}
