// Bench "deliver" (P2): CreateService issued on the manager's control socket → the task's secret
// file readable on the node, end to end with a real manager and a real agent process, against
// Docker Swarm's `docker service create --secret` → the task's secret file present, in the same run.
// The engine (cycle, prober, rounds, report) is bench/lifecycle.ts.
import type { BenchModule } from './harness.js';
import { runLifecycle } from './lifecycle.js';

export const deliverBench: BenchModule = {
  name: 'deliver',
  description: 'CreateService issued → secret file readable on the node, real agent (vs Swarm service create --secret → secret file present)',
  run: (opts) => runLifecycle({ kind: 'deliver', targetP99Ms: 50 }, opts),
};
