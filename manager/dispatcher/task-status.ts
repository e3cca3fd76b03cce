// Task status reports from a node (UpdateTaskStatus), committed in batches: one txn per
// STATUS_TXN_OPS tasks instead of one per task (a node reports up to 10,000 at once, e.g. after
// a COMPLETE). Each task is guarded by its revision; a batch that lost a race with another writer
// (the orchestrator moved or removed a task) is re-read from the view and tried again.
import type { Store } from '../store/store.js';
import type { ClusterView } from '../state/view.js';
import { encode, keys, type TaskRecord, type TaskState } from '../state/records.js';

/** Keeps a txn under etcd's default limit of 128 operations (--max-txn-ops). */
export const STATUS_TXN_OPS = 100;
const ATTEMPTS = 4;

export interface TaskStatusUpdate {
  taskId: string;
  state: TaskState;
  message: string;
}

/**
 * Commits the updates that still apply: tasks of `nodeId` whose state differs. Reports on tasks
 * that are gone, moved to another node, or lost every race are moot and dropped.
 * Resolves once the view holds what was committed.
 */
export async function commitTaskStatus(store: Store, view: ClusterView, nodeId: string, updates: readonly TaskStatusUpdate[]): Promise<void> {
  let pending = [...updates];
  for (let attempt = 0; attempt < ATTEMPTS && pending.length; attempt++) {
    const changes = pending.flatMap((u) => {
      const task = view.tasks.get(u.taskId);
      return task && task.nodeId === nodeId && task.state !== u.state ? [{ update: u, task }] : [];
    });
    pending = [];
    let seen = 0;
    for (let i = 0; i < changes.length; i += STATUS_TXN_OPS) {
      const batch = changes.slice(i, i + STATUS_TXN_OPS);
      const now = Date.now();
      const result = await store.txn(
        batch.map(({ task }) => ({ key: keys.task(task.id), modRev: view.modRev(keys.task(task.id)) })),
        batch.map(({ update, task }) => ({ type: 'put' as const, key: keys.task(task.id), value: encode(reported(task, update, now)) })),
      );
      seen = Math.max(seen, result.revision);
      if (!result.ok) pending.push(...batch.map((c) => c.update));
    }
    // Committed batches must be in the view before the call returns; a lost race must be in it
    // before the batch is re-read.
    if (seen) await view.waitFor(seen);
  }
}

function reported(task: TaskRecord, u: TaskStatusUpdate, now: number): TaskRecord {
  return { ...task, state: u.state, message: String(u.message ?? '').slice(0, 256), stateSinceMs: now };
}
