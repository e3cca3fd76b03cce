// Applies Dispatcher messages to the node's in-memory secrets.
import type { AssignmentsMessage__Output } from '../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignedTask__Output } from '../proto/gen/hush/v1/AssignedTask.js';
import type { AssignedSecret__Output } from '../proto/gen/hush/v1/AssignedSecret.js';
import type { NodeSecrets, NodeTask, SecretPayload } from './secrets/node-secrets.js';

function toTask(t: AssignedTask__Output): NodeTask {
  return {
    id: t.id, name: t.name, serviceName: t.serviceName,
    files: t.secrets.map((r) => ({ secretId: r.secretId, secretName: r.secretName, version: r.version, target: r.target, uid: r.uid, gid: r.gid, mode: r.mode })),
  };
}

/**
 * The plaintext of a delivered version, in a buffer the agent owns (and zeroes when it drops the
 * version): opened from `sealed` with the stream's chain (agent/stream-payloads.ts). Throws if it
 * does not open: the stream is broken.
 */
export type PayloadOpener = (s: AssignedSecret__Output) => Buffer;

export interface Applied {
  added: string[];
  removed: string[];
}

/** COMPLETE replaces everything (what is absent is revoked); INCREMENTAL applies changes. */
export function applyAssignments(secrets: NodeSecrets, m: AssignmentsMessage__Output, openPayload: PayloadOpener): Applied {
  const upserts: NodeTask[] = [];
  const removeTasks: string[] = [];
  const addSecrets: SecretPayload[] = [];
  const removeSecrets: Array<{ id: string; version: number }> = [];
  try {
    for (const c of m.changes) {
      const a = c.assignment;
      if (a?.task) {
        if (c.action === 'REMOVE') removeTasks.push(a.task.id);
        else upserts.push(toTask(a.task));
      } else if (a?.secret) {
        if (c.action === 'REMOVE') removeSecrets.push({ id: a.secret.id, version: a.secret.version });
        else addSecrets.push({ id: a.secret.id, name: a.secret.name, version: a.secret.version, data: openPayload(a.secret), createdAtMs: a.secret.createdAtMs });
      }
    }
  } catch (err) {
    for (const s of addSecrets) s.data.fill(0); // nothing of a broken message is applied
    throw err;
  }
  if (m.type === 'COMPLETE') {
    const before = new Set(secrets.taskList().map((t) => t.id));
    secrets.replaceAll(upserts, addSecrets);
    const after = new Set(secrets.taskList().map((t) => t.id));
    return { added: [...after].filter((id) => !before.has(id)), removed: [...before].filter((id) => !after.has(id)) };
  }
  // An INCREMENTAL changes only the tasks it names: look at those, not at every task on the node.
  const named = new Set([...upserts.map((t) => t.id), ...removeTasks]);
  const had = new Set([...named].filter((id) => secrets.hasTask(id)));
  secrets.apply(upserts, removeTasks, addSecrets, removeSecrets);
  return {
    added: [...named].filter((id) => !had.has(id) && secrets.hasTask(id)),
    removed: [...named].filter((id) => had.has(id) && !secrets.hasTask(id)),
  };
}
