// How long the agent waits before its next try to reach a manager.
//
// Capped exponential backoff with "full jitter": the ceiling doubles from BASE with each failure in a
// row up to CAP, and the delay is drawn uniformly between FLOOR and that ceiling. The cap bounds what a
// manager restart costs a node: once the manager is back, every agent is through within CAP, so a
// revocation made meanwhile reaches it at most ~CAP late. The uniform draw spreads a reconnect storm:
// N agents that lost the same manager retry at about N / CAP per second over the window, not at once.
// The floor keeps an agent that fails instantly (connection refused) from spinning.

export const RECONNECT_BASE_MS = 250;
export const RECONNECT_CAP_MS = 3000;
export const RECONNECT_FLOOR_MS = 100;

/** The ceiling of the delay after `failures` failures in a row (>= 1). */
export function reconnectCeilingMs(failures: number): number {
  const doublings = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** doublings);
}

/** The delay before the next try after `failures` failures in a row; `random` returns [0, 1). */
export function reconnectDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = reconnectCeilingMs(failures);
  return Math.round(RECONNECT_FLOOR_MS + random() * (ceiling - RECONNECT_FLOOR_MS));
}
