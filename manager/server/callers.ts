// The caller the authorization guard (guard.ts) decided for each call it let through, for the
// handler to read. Only the guard writes it.
import type { Caller } from '../auth/authorize.js';

const callers = new WeakMap<object, Caller>();

export function recordCaller(call: object, caller: Caller): void {
  callers.set(call, caller);
}

/** The authorized caller of a call; throws if the call did not pass the guard. */
export function callerOf(call: object): Caller {
  const caller = callers.get(call);
  if (!caller) throw new Error('an RPC reached its handler without passing the authorization guard');
  return caller;
}
