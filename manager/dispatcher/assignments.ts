// What one node is entitled to: the running tasks assigned to it, and exactly the
// secret versions those tasks reference. Nothing else is ever sent to the node.
import type { ClusterView } from '../state/view.js';
import type { TaskRecord } from '../state/records.js';
import { isValidServiceName } from '../services/spec.js';
import { versionKey } from '../../common/version-key.js';

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


/** The name a task's directory has on the node: `service.slot`, or `service` for a global task. */
export function taskName(task: TaskRecord): string {
  return task.slot > 0 ? `${task.serviceName}.${task.slot}` : task.serviceName;
}

/** One task's share of its node's assignments: the task, and each secret version it references once. */
export interface TaskEntitlement {
  task: TaskAssignment;
  secrets: SecretAssignment[];
}

/**
 * What one task entitles its node to; undefined if nothing (not meant to run, being revoked, its
 * service is gone, or its service's name is refused: see refusedService). `revoking`: tasks being removed by a txn not yet durable, already treated as gone.
 */
export function assignTask(view: ClusterView, task: TaskRecord, revoking?: ReadonlySet<string>): TaskEntitlement | undefined {
  if (task.desiredState !== 'running' || revoking?.has(task.id)) return undefined;
  const service = view.services.get(task.serviceId);
  // A name with a dot (an older manager's) could share a path with another service's task: never sent.
  if (!service || !isValidServiceName(service.name)) return undefined;
  const refs: TaskAssignment['secrets'] = [];
  const secrets: SecretAssignment[] = [];
  for (const ref of service.secrets) {
    const secret = view.secrets.get(ref.secretId);
    if (!secret) continue;
    const version = ref.version ?? secret.versions[secret.versions.length - 1].version;
    const v = secret.versions.find((x) => x.version === version);
    if (!v) continue;
    refs.push({ secretId: secret.id, secretName: secret.name, version, target: ref.target, uid: ref.uid, gid: ref.gid, mode: ref.mode });
    if (!secrets.some((s) => s.id === secret.id && s.version === version)) {
      secrets.push({ id: secret.id, name: secret.name, version, createdAtMs: v.createdAtMs });
    }
  }
  return { task: { id: task.id, name: taskName(task), serviceId: service.id, serviceName: service.name, secrets: refs }, secrets };
}

/** Everything a node is entitled to (the first message of a stream; tests). */
export function computeAssignments(view: ClusterView, nodeId: string, revoking?: ReadonlySet<string>): NodeAssignments {
  const out: NodeAssignments = { tasks: new Map(), secrets: new Map() };
  for (const task of view.tasksOnNode(nodeId)) {
    const e = assignTask(view, task, revoking);
    if (!e) continue;
    for (const s of e.secrets) out.secrets.set(versionKey(s.id, s.version), s);
    out.tasks.set(task.id, e.task);
  }
  return out;
}

export interface AssignmentDiff {
  secretsAdded: SecretAssignment[];
  tasksChanged: TaskAssignment[];
  tasksRemoved: TaskAssignment[];
  secretsRemoved: SecretAssignment[];
}

type SecretRef = TaskAssignment['secrets'][number];

const sameRef = (a: SecretRef, b: SecretRef) => a.secretId === b.secretId && a.secretName === b.secretName
  && a.version === b.version && a.target === b.target && a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;

/** Field by field: this runs for every task a change touches. */
export function sameTaskAssignment(a: TaskAssignment, b: TaskAssignment): boolean {
  if (a.id !== b.id || a.name !== b.name || a.serviceId !== b.serviceId || a.serviceName !== b.serviceName) return false;
  if (a.secrets.length !== b.secrets.length) return false;
  for (let i = 0; i < a.secrets.length; i++) if (!sameRef(a.secrets[i], b.secrets[i])) return false;
  return true;
}

export const isEmptyDiff = (d: AssignmentDiff) =>
  !d.secretsAdded.length && !d.tasksChanged.length && !d.tasksRemoved.length && !d.secretsRemoved.length;
