// Bench "revoke" (P1): RemoveService issued on the manager's control socket → open() of the
// task's secret file fails on the node, end to end with a real manager and a real agent process,
// against Docker Swarm's `docker service rm` → the task's secret file gone, in the same run.
// The engine (cycle, prober, rounds, report) is bench/lifecycle.ts.
import type { BenchModule } from './harness.js';
import { runLifecycle } from './lifecycle.js';

export const revokeBench: BenchModule = {
  name: 'revoke',
  description: 'RemoveService issued → open() of the secret file fails on the node, real agent (vs Swarm service rm → secret file gone)',
  run: (opts) => runLifecycle({ kind: 'revoke', targetP99Ms: 25 }, opts),
};
