// Read-modify-write against the store with compare-and-swap: an attempt reads what it needs and
// commits a txn guarded by the revisions it read; `undefined` means the guard failed (someone else
// wrote first) and the attempt runs again on fresh reads. After MAX_CAS_RETRIES lost races the
// caller gets UNAVAILABLE with `conflict` ("… is being changed concurrently, try again").
import { unavailable } from '../../common/errors.js';

export const MAX_CAS_RETRIES = 8;

export async function casRetry<T>(conflict: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < MAX_CAS_RETRIES; i++) {
    const done = await attempt();
    if (done !== undefined) return done;
  }
  throw unavailable(conflict);
}
