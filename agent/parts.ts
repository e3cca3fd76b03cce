// Reassembles the Assignments messages the manager sends in parts (manager/dispatcher/parts.ts):
// parts are buffered until the last one (partial = false), then handed on as one message, so that
// a COMPLETE sent in parts still replaces everything in one step.
import type { AssignmentsMessage__Output } from '../proto/gen/hush/v1/AssignmentsMessage.js';
import type { AssignmentChange__Output } from '../proto/gen/hush/v1/AssignmentChange.js';

export class PartBuffer {
  private first?: AssignmentsMessage__Output;
  private changes: AssignmentChange__Output[] = [];

  /**
   * The whole message once `m` completes it (or is whole by itself); undefined while parts are
   * missing. Throws if a part does not continue the message being assembled (the stream is broken:
   * resubscribe).
   */
  add(m: AssignmentsMessage__Output): AssignmentsMessage__Output | undefined {
    const first = this.first;
    if (first && (m.type !== first.type || m.appliesTo !== first.appliesTo || m.resultsIn !== first.resultsIn)) {
      this.discard();
      throw new Error(`a part of assignments ${first.appliesTo}→${first.resultsIn} was followed by ${m.type} ${m.appliesTo}→${m.resultsIn}`);
    }
    if (m.partial) {
      this.first ??= m;
      this.changes.push(...m.changes);
      return undefined;
    }
    if (!first) return m;
    const whole = { ...m, changes: [...this.changes, ...m.changes] };
    this.first = undefined;
    this.changes = [];
    return whole;
  }

  /** Drops the parts received so far, zeroing their payloads (the stream ended mid-message). */
  discard(): void {
    for (const c of this.changes) c.assignment?.secret?.data?.fill(0);
    this.first = undefined;
    this.changes = [];
  }
}
