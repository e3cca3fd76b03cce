// An Assignments message too large for one gRPC message (a node entitled to many large secrets: a
// node's default limit is 64 MiB, a secret up to 500 KB) is sent in parts (proto: `partial`), in
// order; the node applies them together once the last part arrives (agent/parts.ts), so a big
// COMPLETE is still one atomic replace.
import type { AssignmentsMessage } from '../../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentChange } from '../../proto/gen/hush/v1/AssignmentChange.js';

/** Payload bytes per part: far below the node's 64 MiB receive limit, whatever one secret adds. */
export const PART_BYTES = 8 * 1024 * 1024;

/** A generous estimate of a change's encoded size (ids, names, refs: small; payload: its length). */
function sizeOf(c: AssignmentChange): number {
  const a = c.assignment;
  const payload = a?.secret?.sealed ?? a?.secret?.data;
  const refs = a?.task?.secrets?.length ?? 0;
  return 512 + (payload ? (payload as Buffer).length : 0) + refs * 256;
}

/** The message as parts of at most `budget` estimated bytes each (a single larger change alone), in order. */
export function splitMessage(message: AssignmentsMessage, budget = PART_BYTES): AssignmentsMessage[] {
  const changes = message.changes ?? [];
  const groups: AssignmentChange[][] = [[]];
  let bytes = 0;
  for (const c of changes) {
    const n = sizeOf(c);
    const current = groups[groups.length - 1];
    if (current.length > 0 && bytes + n > budget) {
      groups.push([c]);
      bytes = n;
    } else {
      current.push(c);
      bytes += n;
    }
  }
  return groups.map((part, i) => ({ ...message, changes: part, partial: i < groups.length - 1 }));
}
