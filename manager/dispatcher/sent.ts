// What one session has sent to its node, kept so that a change costs what it touches: the tasks
// as sent, and per secret version the sent tasks that reference it. A version is on the node
// exactly while that set is not empty.
import { sameTaskAssignment, type AssignmentDiff, type SecretAssignment, type TaskAssignment, type TaskEntitlement } from './assignments.js';
import { versionKey } from '../../common/version-key.js';

/** One task whose assignment changes: what was sent (if anything) and what it becomes (if anything). */
interface TaskDelta {
  id: string;
  prev?: TaskAssignment;
  next?: TaskEntitlement;
}

/** A diff, plus what commit() needs to record it as sent. */
export interface PendingDiff extends AssignmentDiff {
  deltas: TaskDelta[];
}

interface SentSecret {
  secret: SecretAssignment;
  tasks: Set<string>;
}

/** The distinct secret versions an assignment references, as keys. */
function keysOf(t: TaskAssignment): Set<string> {
  return new Set(t.secrets.map((r) => versionKey(r.secretId, r.version)));
}

export class SentAssignments {
  readonly tasks = new Map<string, TaskAssignment>();
  private readonly secrets = new Map<string, SentSecret>();

  /**
   * The difference between what was sent and `next`, for the tasks in `next` only (undefined:
   * the node is not entitled to the task). Changes nothing: see commit().
   */
  diff(next: Map<string, TaskEntitlement | undefined>): PendingDiff {
    const d: PendingDiff = { secretsAdded: [], tasksChanged: [], tasksRemoved: [], secretsRemoved: [], deltas: [] };
    // Per secret version touched: how many referencing tasks it gains (+) or loses (-).
    const delta = new Map<string, { secret: SecretAssignment; n: number }>();
    const bump = (key: string, secret: SecretAssignment, n: number) => {
      const x = delta.get(key);
      if (x) x.n += n;
      else delta.set(key, { secret, n });
    };
    for (const [id, e] of next) {
      const prev = this.tasks.get(id);
      if (!prev && !e) continue;
      if (prev && e && sameTaskAssignment(prev, e.task)) continue;
      d.deltas.push({ id, prev, next: e });
      if (e) {
        d.tasksChanged.push(e.task);
        for (const s of e.secrets) bump(versionKey(s.id, s.version), s, 1);
      } else if (prev) d.tasksRemoved.push(prev);
      if (prev) for (const key of keysOf(prev)) bump(key, this.secrets.get(key)!.secret, -1);
    }
    for (const [key, { secret, n }] of delta) {
      const before = this.secrets.get(key)?.tasks.size ?? 0;
      if (before === 0 && n > 0) d.secretsAdded.push(secret);
      else if (before > 0 && before + n === 0) d.secretsRemoved.push(this.secrets.get(key)!.secret);
    }
    return d;
  }

  /** Records a diff from diff() as sent; nothing may have been committed in between. */
  commit(d: PendingDiff): void {
    for (const { id, prev, next } of d.deltas) {
      if (prev) for (const key of keysOf(prev)) this.unref(key, id);
      if (next) {
        for (const s of next.secrets) this.ref(s, id);
        this.tasks.set(id, next.task);
      } else this.tasks.delete(id);
    }
  }

  /** The sent tasks that reference a secret version (for the audit line). */
  tasksUsing(secretId: string, version: number): string[] {
    return [...(this.secrets.get(versionKey(secretId, version))?.tasks ?? [])];
  }

  private ref(s: SecretAssignment, taskId: string): void {
    const key = versionKey(s.id, s.version);
    let x = this.secrets.get(key);
    if (!x) this.secrets.set(key, (x = { secret: s, tasks: new Set() }));
    x.tasks.add(taskId);
  }

  private unref(key: string, taskId: string): void {
    const x = this.secrets.get(key)!;
    x.tasks.delete(taskId);
    if (x.tasks.size === 0) this.secrets.delete(key);
  }
}
