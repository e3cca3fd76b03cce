// What one node is entitled to: the running tasks assigned to it, and exactly the
// secret versions those tasks reference. Nothing else is ever sent to the node.
import type { ClusterView } from '../state/view.js';
import type { TaskRecord } from '../state/records.js';

export interface TaskAssignment {
  id: string;
  name: string;
  serviceId: string;
  serviceName: string;
  secrets: Array<{ secretId: string; secretName: string; version: number; target: string; uid: number; gid: number; mode: number }>;
}

export interface SecretAssignment {
  id: string;
  name: string;
  version: number;
  createdAtMs: number;
}

export interface NodeAssignments {
  tasks: Map<string, TaskAssignment>;
  /** Keyed by `${secretId}@${version}`. */
  secrets: Map<string, SecretAssignment>;
}

export const secretKey = (id: string, version: number) => `${id}@${version}`;

/** The name a task's directory has on the node: `service.slot`, or `service` for a global task. */
export function taskName(task: TaskRecord): string {
  return task.slot > 0 ? `${task.serviceName}.${task.slot}` : task.serviceName;
}

/** `revoking`: tasks being removed by a txn not yet durable, already treated as gone. */
export function computeAssignments(view: ClusterView, nodeId: string, revoking?: ReadonlySet<string>): NodeAssignments {
  const out: NodeAssignments = { tasks: new Map(), secrets: new Map() };
  for (const task of view.tasksOnNode(nodeId)) {
    if (task.desiredState !== 'running' || revoking?.has(task.id)) continue;
    const service = view.services.get(task.serviceId);
    if (!service) continue;
    const refs: TaskAssignment['secrets'] = [];
    for (const ref of service.secrets) {
      const secret = view.secrets.get(ref.secretId);
      if (!secret) continue;
      const version = ref.version ?? secret.versions[secret.versions.length - 1].version;
      const v = secret.versions.find((x) => x.version === version);
      if (!v) continue;
      refs.push({ secretId: secret.id, secretName: secret.name, version, target: ref.target, uid: ref.uid, gid: ref.gid, mode: ref.mode });
      out.secrets.set(secretKey(secret.id, version), { id: secret.id, name: secret.name, version, createdAtMs: v.createdAtMs });
    }
    out.tasks.set(task.id, { id: task.id, name: taskName(task), serviceId: service.id, serviceName: service.name, secrets: refs });
  }
  return out;
}

export interface AssignmentDiff {
  secretsAdded: SecretAssignment[];
  tasksChanged: TaskAssignment[];
  tasksRemoved: TaskAssignment[];
  secretsRemoved: SecretAssignment[];
}

const sameTask = (a: TaskAssignment, b: TaskAssignment) => JSON.stringify(a) === JSON.stringify(b);

export function diffAssignments(prev: NodeAssignments, next: NodeAssignments): AssignmentDiff {
  const d: AssignmentDiff = { secretsAdded: [], tasksChanged: [], tasksRemoved: [], secretsRemoved: [] };
  for (const [k, s] of next.secrets) if (!prev.secrets.has(k)) d.secretsAdded.push(s);
  for (const [id, t] of next.tasks) {
    const old = prev.tasks.get(id);
    if (!old || !sameTask(old, t)) d.tasksChanged.push(t);
  }
  for (const [id, t] of prev.tasks) if (!next.tasks.has(id)) d.tasksRemoved.push(t);
  for (const [k, s] of prev.secrets) if (!next.secrets.has(k)) d.secretsRemoved.push(s);
  return d;
}

export const isEmptyDiff = (d: AssignmentDiff) =>
  !d.secretsAdded.length && !d.tasksChanged.length && !d.tasksRemoved.length && !d.secretsRemoved.length;
