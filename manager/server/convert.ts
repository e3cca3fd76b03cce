// Store records → wire messages. Metadata only: no secret data ever leaves through here.
import type { Secret } from '../../proto/gen/hush/v1/Secret.js';
import type { Node } from '../../proto/gen/hush/v1/Node.js';
import type { Service } from '../../proto/gen/hush/v1/Service.js';
import type { Task } from '../../proto/gen/hush/v1/Task.js';
import type { NodeRecord, SecretRecord, ServiceRecord, TaskRecord } from '../state/records.js';

export function secretToProto(s: SecretRecord): Secret {
  return {
    id: s.id, name: s.name, labels: s.labels, createdAtMs: s.createdAtMs, updatedAtMs: s.updatedAtMs,
    versions: s.versions.map((v) => ({ version: v.version, createdAtMs: v.createdAtMs, size: v.size })),
  };
}

export function nodeToProto(n: NodeRecord): Node {
  return {
    id: n.id, role: n.role, hostname: n.hostname, labels: n.labels, certSerial: n.certSerial,
    certNotAfterMs: n.certNotAfterMs, state: n.state, availability: n.availability, createdAtMs: n.createdAtMs,
  };
}

export function serviceToProto(s: ServiceRecord): Service {
  return {
    id: s.id, name: s.name, mode: s.mode, replicas: s.replicas,
    secrets: s.secrets.map((r) => ({
      secretId: r.secretId, secretName: r.secretName, version: r.version ?? 0, target: r.target, uid: r.uid, gid: r.gid, mode: r.mode,
    })),
    constraints: s.constraints, labels: s.labels, createdAtMs: s.createdAtMs, updatedAtMs: s.updatedAtMs,
  };
}

/** A task's name: `service.slot`, or `service.node-id` for a global service's task. */
export function taskName(t: TaskRecord): string {
  return t.slot > 0 ? `${t.serviceName}.${t.slot}` : `${t.serviceName}.${t.forNodeId || t.nodeId}`;
}

export function taskToProto(t: TaskRecord): Task {
  return {
    id: t.id, name: taskName(t), serviceId: t.serviceId, serviceName: t.serviceName, slot: t.slot, nodeId: t.nodeId,
    desiredState: t.desiredState, state: t.state, message: t.message, stateSinceMs: t.stateSinceMs,
  };
}
