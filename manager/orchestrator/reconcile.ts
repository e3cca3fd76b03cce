// The orchestrator's core: from the services, the tasks and the nodes, compute the task
// changes that make the cluster match its services (Swarm's replicated and global modes).
// Pure: no I/O, no clock, no randomness; new ids come from input.newId, called in a
// deterministic order (services by id, then global nodes by id, then replicated slots).
import type { NodeRecord, ServiceRecord, TaskRecord } from '../state/records.js';
import { parseConstraint, satisfies, type Constraint } from './constraints.js';
import { isValidServiceName, SERVICE_NAME_RULE } from '../services/spec.js';

export interface ReconcileInput {
  services: ReadonlyMap<string, ServiceRecord>;
  /** Every task; with `scope`, exactly the tasks of the scoped services. */
  tasks: ReadonlyMap<string, TaskRecord>;
  nodes: ReadonlyMap<string, NodeRecord>;
  now: number;
  newId: () => string;
  /**
   * Reconcile only these services (a change touched nothing else): their tasks are in `tasks`, and
   * the tasks of every other service count where they run (`loadOutside`: node id → tasks), so
   * placement spreads exactly as a whole pass would. Valid only when the services outside the scope
   * are already reconciled against the current nodes (a whole pass would leave them unchanged).
   */
  scope?: { services: ReadonlySet<string>; loadOutside: ReadonlyMap<string, number> };
}

/** Only real changes: an unchanged task is never in put. Deletes are task ids (the tasks map's keys). */
export interface TaskChanges {
  put: TaskRecord[];
  delete: string[];
}

/** Why a node cannot take a new task, in the order a node is counted in a pending message. */
type Exclusion = 'down' | 'drained' | 'paused' | 'not ready' | 'not matching constraints';
const EXCLUSIONS: readonly Exclusion[] = ['down', 'drained', 'paused', 'not ready', 'not matching constraints'];

/** The node's own reason (constraints aside) not to take new tasks; undefined: it can. */
function nodeExclusion(node: NodeRecord): Exclusion | undefined {
  if (node.state === 'down') return 'down';
  if (node.availability === 'drain') return 'drained';
  if (node.availability === 'pause') return 'paused';
  if (node.state !== 'ready') return 'not ready';
  return undefined;
}

interface ServicePlan {
  service: ServiceRecord;
  /**
   * null: the constraints do not parse, or the service is refused (refusedService), so no node matches
   * (fail closed: a secret goes nowhere unintended).
   */
  constraints: Constraint[] | null;
  /** Why constraints is null: the pending message (after "no suitable node: " for a constraint). */
  constraintError: string;
  refused: boolean;
}

/**
 * Why a stored service is never placed, or '' if it may be: a name with a dot (stored by an older
 * manager) would put its tasks' directories on paths another service's tasks use (`web.1`).
 */
export function refusedService(service: ServiceRecord): string {
  if (isValidServiceName(service.name)) return '';
  return `service name ${JSON.stringify(String(service.name).slice(0, 80))} is not valid (${SERVICE_NAME_RULE}): not placed; remove the service and create it under a valid name`;
}

function planFor(service: ServiceRecord): ServicePlan {
  const refused = refusedService(service);
  if (refused) return { service, constraints: null, constraintError: refused, refused: true };
  try {
    return { service, constraints: (service.constraints ?? []).map(parseConstraint), constraintError: '', refused: false };
  } catch (err) {
    return { service, constraints: null, constraintError: err instanceof Error ? err.message : String(err), refused: false };
  }
}

function matches(plan: ServicePlan, node: NodeRecord): boolean {
  return plan.constraints !== null && satisfies(node, plan.constraints);
}

/** A node may keep a task it already runs: not down, not drained, still matching. */
function mayKeep(plan: ServicePlan, node: NodeRecord | undefined): node is NodeRecord {
  return node !== undefined && node.state !== 'down' && node.availability !== 'drain' && matches(plan, node);
}

/** A node may take a new task: ready, active, matching. */
function mayTake(plan: ServicePlan, node: NodeRecord | undefined): node is NodeRecord {
  return node !== undefined && nodeExclusion(node) === undefined && matches(plan, node);
}

/** The pending message, as `hush service ps` shows it. */
function pendingReason(plan: ServicePlan, sortedNodes: readonly NodeRecord[]): string {
  if (plan.refused) return plan.constraintError;
  if (plan.constraints === null) return `no suitable node: ${plan.constraintError}`;
  if (sortedNodes.length === 0) return 'no suitable node: no nodes have joined the cluster';
  const counts = new Map<Exclusion, number>();
  for (const node of sortedNodes) {
    const why = nodeExclusion(node) ?? (matches(plan, node) ? undefined : 'not matching constraints');
    if (why) counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  const parts = EXCLUSIONS.filter((e) => counts.has(e)).map((e) => `${counts.get(e)} ${e}`);
  const n = sortedNodes.length;
  return `no suitable node: ${n} node${n === 1 ? '' : 's'} (${parts.join(', ')})`;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sameTaskRecord(a: TaskRecord, b: TaskRecord): boolean {
  const ka = Object.keys(a) as (keyof TaskRecord)[];
  const kb = Object.keys(b) as (keyof TaskRecord)[];
  const defined = (r: TaskRecord, ks: (keyof TaskRecord)[]) => ks.filter((k) => r[k] !== undefined);
  const da = defined(a, ka);
  const db = defined(b, kb);
  return da.length === db.length && da.every((k) => a[k] === b[k]);
}

/** Placement order: fewest tasks in total, then fewest of this service, then lowest node id. */
interface Candidate {
  id: string;
  total: number;
  mine: number;
}

function before(a: Candidate, b: Candidate): boolean {
  if (a.total !== b.total) return a.total < b.total;
  if (a.mine !== b.mine) return a.mine < b.mine;
  return a.id < b.id;
}

/** A binary min-heap of candidates; only the popped candidate's counts change while it is out. */
class CandidateHeap {
  private readonly items: Candidate[] = [];

  get size(): number {
    return this.items.length;
  }

  push(c: Candidate): void {
    const h = this.items;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): Candidate | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A replicated slot that needs a node: an existing task (pending, or moving) or a new one. */
interface Unplaced {
  slot: number;
  existing?: TaskRecord;
}

export function reconcile(input: ReconcileInput): TaskChanges {
  const { services, tasks, nodes, now, newId, scope } = input;
  const put: TaskRecord[] = [];
  const del: string[] = [];
  const sortedNodes = [...nodes.values()].sort((a, b) => byString(a.id, b.id));

  // Tasks that stay on (or are placed on) each node, for placement.
  const total = new Map<string, number>(scope?.loadOutside);
  const perService = new Map<string, Map<string, number>>();
  const countOn = (serviceId: string, nodeId: string): void => {
    total.set(nodeId, (total.get(nodeId) ?? 0) + 1);
    let m = perService.get(serviceId);
    if (!m) perService.set(serviceId, (m = new Map()));
    m.set(nodeId, (m.get(nodeId) ?? 0) + 1);
  };
  const emit = (before: TaskRecord, after: TaskRecord): void => {
    if (!sameTaskRecord(before, after)) put.push(after);
  };

  // Group the tasks by service; a task whose service is gone is deleted.
  const byService = new Map<string, [string, TaskRecord][]>();
  for (const key of [...tasks.keys()].sort(byString)) {
    const task = tasks.get(key)!;
    if (!services.has(task.serviceId)) {
      del.push(key);
      continue;
    }
    let list = byService.get(task.serviceId);
    if (!list) byService.set(task.serviceId, (list = []));
    list.push([key, task]);
  }

  const reconciled = scope ? [...scope.services].flatMap((id) => services.get(id) ?? []) : [...services.values()];
  const sortedServices = reconciled.sort((a, b) => byString(a.id, b.id));
  const toPlace: { plan: ServicePlan; unplaced: Unplaced[] }[] = [];

  for (const service of sortedServices) {
    const plan = planFor(service);
    const own = byService.get(service.id) ?? [];

    if (service.mode === 'global') {
      // One task per node that can take it; an existing one stays while its node may keep it.
      const nodeOf = (t: TaskRecord) => t.forNodeId || t.nodeId;
      const onItsNode = (t: TaskRecord) => t.nodeId !== '' && t.nodeId === nodeOf(t) && t.state !== 'pending';
      // Duplicates for one node: the one already on it wins, then the lowest id.
      own.sort(([ka, a], [kb, b]) => Number(onItsNode(b)) - Number(onItsNode(a)) || byString(ka, kb));
      const covered = new Set<string>();
      for (const [key, task] of own) {
        const nodeId = nodeOf(task);
        const node = nodes.get(nodeId);
        if (task.slot !== 0 || !nodeId || covered.has(nodeId)) {
          del.push(key);
        } else if (onItsNode(task) && mayKeep(plan, node)) {
          covered.add(nodeId);
          countOn(service.id, nodeId);
          emit(task, { ...task, forNodeId: nodeId, desiredState: 'running' });
        } else if (!onItsNode(task) && mayTake(plan, node)) {
          covered.add(nodeId);
          countOn(service.id, nodeId);
          emit(task, { ...task, forNodeId: nodeId, nodeId, desiredState: 'running', state: 'assigned', message: '', stateSinceMs: now });
        } else {
          del.push(key);
        }
      }
      for (const node of sortedNodes) {
        if (covered.has(node.id) || !mayTake(plan, node)) continue;
        countOn(service.id, node.id);
        put.push({
          id: newId(), serviceId: service.id, serviceName: service.name, slot: 0, forNodeId: node.id, nodeId: node.id,
          desiredState: 'running', state: 'assigned', message: '', createdAtMs: now, stateSinceMs: now,
        });
      }
      continue;
    }

    // Replicated: slots 1..replicas, one task each, ids stable per slot.
    const replicas = Number.isSafeInteger(service.replicas) && service.replicas > 0 ? service.replicas : 0;
    const placed = (t: TaskRecord) => t.state !== 'pending' && t.nodeId !== '' && mayKeep(plan, nodes.get(t.nodeId));
    const bySlot = new Map<number, [string, TaskRecord][]>();
    for (const entry of own) {
      const slot = entry[1].slot;
      if (!Number.isSafeInteger(slot) || slot < 1 || slot > replicas) {
        del.push(entry[0]);
        continue;
      }
      let list = bySlot.get(slot);
      if (!list) bySlot.set(slot, (list = []));
      list.push(entry);
    }
    const unplaced: Unplaced[] = [];
    for (let slot = 1; slot <= replicas; slot++) {
      const list = bySlot.get(slot);
      if (!list) {
        unplaced.push({ slot });
        continue;
      }
      // Duplicates for one slot: a placed one wins, then the lowest id.
      list.sort(([ka, a], [kb, b]) => Number(placed(b)) - Number(placed(a)) || byString(ka, kb));
      for (let i = 1; i < list.length; i++) del.push(list[i][0]);
      const task = list[0][1];
      if (placed(task)) {
        countOn(service.id, task.nodeId);
        emit(task, { ...task, desiredState: 'running' });
      } else {
        unplaced.push({ slot, existing: task });
      }
    }
    if (unplaced.length > 0) toPlace.push({ plan, unplaced });
  }

  // Place what needs a node, after every staying task is counted.
  for (const { plan, unplaced } of toPlace) {
    const service = plan.service;
    const mine = perService.get(service.id);
    const heap = new CandidateHeap();
    for (const node of sortedNodes) {
      if (mayTake(plan, node)) heap.push({ id: node.id, total: total.get(node.id) ?? 0, mine: mine?.get(node.id) ?? 0 });
    }
    const reason = heap.size === 0 ? pendingReason(plan, sortedNodes) : '';
    for (const { slot, existing } of unplaced) {
      const c = heap.pop();
      if (c) {
        c.total++;
        c.mine++;
        heap.push(c);
        countOn(service.id, c.id);
      }
      if (existing) {
        if (c) {
          emit(existing, { ...existing, nodeId: c.id, desiredState: 'running', state: 'assigned', message: '', stateSinceMs: now });
        } else if (existing.state === 'pending' && existing.nodeId === '') {
          emit(existing, { ...existing, desiredState: 'running', message: reason });
        } else {
          emit(existing, { ...existing, nodeId: '', desiredState: 'running', state: 'pending', message: reason, stateSinceMs: now });
        }
      } else {
        put.push({
          id: newId(), serviceId: service.id, serviceName: service.name, slot, nodeId: c ? c.id : '',
          desiredState: 'running', state: c ? 'assigned' : 'pending', message: reason, createdAtMs: now, stateSinceMs: now,
        });
      }
    }
  }

  return { put, delete: del };
}
