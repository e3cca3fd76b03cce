// The tests' one way to wait for a condition: check it until it holds, never sleep a fixed time and hope.

export interface WaitOptions {
  /** Between checks (default 25 ms). */
  intervalMs?: number;
  /**
   * What an error thrown by `check` means: 'retry' (the default) counts it as not yet; 'fail' ends
   * the wait with that error at once (when an error means the wait cannot succeed).
   */
  errors?: 'retry' | 'fail';
  /**
   * For state that changes on events (a test node's messages): also check at once whenever the
   * event fires, so the wait ends at the event itself, not at the next poll. `subscribe` registers
   * the function to call on each event and returns how to unregister it.
   */
  wake?: (onEvent: () => void) => () => void;
}

/**
 * Checks `check` (at once, then every intervalMs, and on every `wake` event) until it returns a
 * truthy value, which it resolves with; throws after timeoutMs, naming `what` and the last result.
 */
export function waitUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise<T>((resolve, reject) => {
    let last: unknown;
    let done = false;
    let checking = false;
    let again = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;
    const end = () => {
      done = true;
      clearTimeout(timer);
      unsubscribe?.();
    };
    const succeed = (value: T) => { end(); resolve(value); };
    const fail = (err: unknown) => { end(); reject(err); };
    const attempt = async () => {
      if (done) return;
      if (checking) {
        again = true; // an event during an async check: check once more after it
        return;
      }
      checking = true;
      clearTimeout(timer);
      do {
        again = false;
        try {
          const v = await check();
          if (v) return succeed(v);
          last = v;
        } catch (e) {
          if (opts.errors === 'fail') return fail(e);
          last = e;
        }
      } while (again && !done);
      checking = false;
      if (Date.now() > deadline) {
        return fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`));
      }
      timer = setTimeout(() => void attempt(), Math.min(opts.intervalMs ?? 25, Math.max(1, deadline - Date.now() + 1)));
    };
    unsubscribe = opts.wake?.(() => void attempt());
    if (done) unsubscribe?.(); // it woke and succeeded while subscribing
    void attempt();
  });
}
