// Liveness on its own clock: when a node counts as down, and what a stall of the manager itself
// (a late sweep: its event loop was held) does to that judgement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Liveness } from './liveness.js';
import type { ClusterView } from '../state/view.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { NodeRecord, NodeState } from '../state/records.js';

const PERIOD = 500;
const SWEEP = 250; // what Liveness uses for a 500 ms period

function setUp() {
  let clock = 10_000;
  const nodes = new Map<string, NodeRecord>();
  nodes.set('n1', { id: 'n1', state: 'ready' } as NodeRecord);
  const view = { nodes, sessions: new Map(), lastHeardAt: clock, onChange: () => () => undefined } as unknown as ClusterView;
  const written: Array<[string, NodeState]> = [];
  const registry = {
    update: async (id: string, fn: (n: NodeRecord) => NodeRecord) => {
      const next = fn(nodes.get(id)!);
      nodes.set(id, next);
      written.push([id, next.state]);
    },
  } as unknown as NodeRegistry;
  const liveness = new Liveness(view, registry, pino({ level: 'silent' }), { periodMs: PERIOD, missed: 3, now: () => clock });
  /** Sweeps on schedule until `ms` later. */
  const run = (ms: number) => {
    for (const end = clock + ms; clock < end;) {
      clock += SWEEP;
      liveness.sweep();
    }
  };
  return { liveness, written, run, stall: (ms: number) => { clock += ms; }, settle: () => new Promise((r) => setImmediate(r)) };
}

test('a node that stops heartbeating is marked down once 3 periods have passed, not before', async () => {
  const { liveness, written, run, settle } = setUp();
  liveness.seen('n1');
  run(1250);
  await settle();
  assert.deepEqual(written, [], 'down before 3 missed periods');
  run(500);
  await settle();
  assert.deepEqual(written, [['n1', 'down']]);
});

test('after the manager itself stalled past the grace, its nodes get a full grace again before they count as down', async () => {
  const { liveness, written, run, stall, settle } = setUp();
  liveness.seen('n1');
  run(500);
  stall(3000); // no sweep, no heartbeat read: the manager's event loop was held
  liveness.sweep(); // the first (late) sweep runs before the queued heartbeats are read
  await settle();
  assert.deepEqual(written, [], 'marked down by the sweep that ran right after the stall');
  liveness.seen('n1'); // the heartbeats that waited in the socket
  run(1250);
  await settle();
  assert.deepEqual(written, []);
  // Silent for real after that: down within the usual grace.
  run(500);
  await settle();
  assert.deepEqual(written, [['n1', 'down']]);
});

test('a node silent since before the stall is still judged: down a full grace after the manager is back', async () => {
  const { liveness, written, run, stall, settle } = setUp();
  liveness.seen('n1');
  stall(3000);
  liveness.sweep();
  run(1250);
  await settle();
  assert.deepEqual(written, []);
  run(500);
  await settle();
  assert.deepEqual(written, [['n1', 'down']]);
});
