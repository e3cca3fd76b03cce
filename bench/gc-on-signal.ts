// Preloaded into an agent by the RSS bench (`node --expose-gc --import dist/bench/gc-on-signal.js
// dist/cli/main.js agent run ...`, see agent-proc.ts): on SIGUSR2, run two full garbage collections
// and print the process's memory usage as one JSON line on stderr ({"benchGc": {...}}), which the
// bench reads from the agent's log stream. Nothing else in the agent changes.
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  gc?.();
  gc?.();
  process.stderr.write(`${JSON.stringify({ benchGc: process.memoryUsage(), gcRan: gc !== undefined })}\n`);
});
export {};
