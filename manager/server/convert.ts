// Store records → wire messages. Metadata only: no secret data ever leaves through here.
import type { Secret } from '../../proto/gen/hush/v1/Secret.js';
import type { Node } from '../../proto/gen/hush/v1/Node.js';
import type { NodeRecord, SecretRecord } from '../state/records.js';

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
