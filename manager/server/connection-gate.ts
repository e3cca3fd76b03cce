// What an unauthenticated peer may hold on the TLS port: the accounting behind the listener.
//
// Two kinds of connection cost a descriptor without proof of who holds it:
//  - pending: accepted, TLS handshake not finished (a silent TCP connection is one);
//  - anonymous: TLS done without a verified client certificate (joins, root-CA fetches, renewals of
//    an expired certificate): legitimate but short.
// Each is capped in total and per source address, so that the rest of the process's descriptors (the
// reserve) stays free for the control socket and for nodes with a certificate, which are not capped.
import { isIPv4 } from 'node:net';

export interface ConnectionLimits {
  /** A connection whose TLS handshake has not finished by then is closed. */
  handshakeTimeoutMs: number;
  maxPending: number;
  maxPendingPerAddress: number;
  maxAnonymous: number;
  maxAnonymousPerAddress: number;
  /** An anonymous TLS connection is closed this long after its handshake. */
  anonymousMaxAgeMs: number;
}

/** `dropped`: closed by the gate, counted nowhere any more. */
export type Stage = 'pending' | 'anonymous' | 'node' | 'dropped';

/**
 * `*-per-address`: the newcomer is refused (its address holds its share); `*-evicted`: the total was
 * reached, so the OLDEST connection of that kind was closed for the newcomer (a real client finishes
 * its handshake, or its join, in milliseconds; a flooder's silent connections are the old ones);
 * `*-total`: reached with nothing to evict.
 */
export type DropReason =
  | 'pending-total' | 'pending-per-address' | 'pending-evicted'
  | 'anonymous-total' | 'anonymous-per-address' | 'anonymous-evicted'
  | 'handshake-timeout' | 'anonymous-max-age';

/** The addresses counted in one report; more are summed as `otherAddresses`. */
const REPORTED_ADDRESSES = 5;
/** Distinct addresses remembered between two reports (a flood from many addresses must not grow it). */
const TRACKED_ADDRESSES = 1000;

/**
 * The key a source address is counted under: IPv4 (also IPv4-mapped IPv6) as it is, IPv6 by its /64
 * (one host commonly holds a whole /64).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIPv4(address)) return address;
  const [head, tail] = address.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

class Counter {
  total = 0;
  private readonly perAddress = new Map<string, number>();

  /**
   * Counts one more for `key`, or says which cap it would exceed: its address's share first, then the
   * total, which `evictOldest` may make room in (by closing one, counted off with remove()).
   */
  add(key: string, maxTotal: number, maxPerAddress: number, evictOldest: () => boolean): 'total' | 'per-address' | 'evicted' | undefined {
    const n = this.perAddress.get(key) ?? 0;
    if (n >= maxPerAddress) return 'per-address';
    let evicted = false;
    if (this.total >= maxTotal) {
      if (!evictOldest() || this.total >= maxTotal) return 'total';
      evicted = true;
    }
    this.perAddress.set(key, (this.perAddress.get(key) ?? 0) + 1);
    this.total++;
    return evicted ? 'evicted' : undefined;
  }

  remove(key: string): void {
    const n = this.perAddress.get(key);
    if (!n) return;
    if (n === 1) this.perAddress.delete(key);
    else this.perAddress.set(key, n - 1);
    this.total--;
  }

  of(key: string): number {
    return this.perAddress.get(key) ?? 0;
  }
}

export interface DropReport {
  dropped: Partial<Record<DropReason, number>>;
  /** The addresses dropped most since the last report, with their counts. */
  addresses: Array<{ address: string; count: number }>;
  otherAddresses: number;
  pending: number;
  anonymous: number;
  nodes: number;
}

export class ConnectionGate {
  private readonly pending = new Counter();
  private readonly anonymous = new Counter();
  private nodes = 0;
  private dropped: Partial<Record<DropReason, number>> = {};
  private droppedBy = new Map<string, number>();
  private droppedUntracked = 0;

  constructor(readonly limits: ConnectionLimits) {}

  /**
   * A connection was accepted: counted as pending, or the reason to drop it now. At the total,
   * `evictOldest` closes the oldest pending connection (it calls evicted()) to make room.
   */
  admit(key: string, evictOldest: () => boolean): DropReason | undefined {
    const r = this.pending.add(key, this.limits.maxPending, this.limits.maxPendingPerAddress, evictOldest);
    if (r === 'per-address') return this.drop('pending-per-address', key);
    if (r === 'total') return this.drop('pending-total', key);
    return undefined;
  }

  /** The TLS handshake of a pending connection finished: it is a node's, or anonymous (or dropped). */
  secured(key: string, certified: boolean, evictOldest: () => boolean): { stage: Stage; drop?: DropReason } {
    this.pending.remove(key);
    if (certified) {
      this.nodes++;
      return { stage: 'node' };
    }
    const r = this.anonymous.add(key, this.limits.maxAnonymous, this.limits.maxAnonymousPerAddress, evictOldest);
    if (r === 'per-address') return { stage: 'dropped', drop: this.drop('anonymous-per-address', key) };
    if (r === 'total') return { stage: 'dropped', drop: this.drop('anonymous-total', key) };
    return { stage: 'anonymous' };
  }

  /** A connection of `stage` was closed to make room for a newcomer. */
  evicted(key: string, stage: 'pending' | 'anonymous'): void {
    this.closed(key, stage);
    this.drop(stage === 'pending' ? 'pending-evicted' : 'anonymous-evicted', key);
  }

  /** A connection counted under `stage` closed (dropped or not). */
  closed(key: string, stage: Stage): void {
    if (stage === 'pending') this.pending.remove(key);
    else if (stage === 'anonymous') this.anonymous.remove(key);
    else if (stage === 'node' && this.nodes > 0) this.nodes--;
  }

  /** Counts a drop for the next report; returns the reason. */
  drop(reason: DropReason, key: string): DropReason {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
    if (this.droppedBy.has(key) || this.droppedBy.size < TRACKED_ADDRESSES) this.droppedBy.set(key, (this.droppedBy.get(key) ?? 0) + 1);
    else this.droppedUntracked++;
    return reason;
  }

  counts(key?: string): { pending: number; anonymous: number; nodes: number } {
    if (key !== undefined) return { pending: this.pending.of(key), anonymous: this.anonymous.of(key), nodes: this.nodes };
    return { pending: this.pending.total, anonymous: this.anonymous.total, nodes: this.nodes };
  }

  /** What was dropped since the last call (undefined if nothing), and resets it. */
  takeReport(): DropReport | undefined {
    if (Object.keys(this.dropped).length === 0) return undefined;
    const sorted = [...this.droppedBy].sort((a, b) => b[1] - a[1]);
    const addresses = sorted.slice(0, REPORTED_ADDRESSES).map(([address, count]) => ({ address, count }));
    const otherAddresses = sorted.length - addresses.length + (this.droppedUntracked > 0 ? 1 : 0);
    const report = { dropped: this.dropped, addresses, otherAddresses, ...this.counts() };
    this.dropped = {};
    this.droppedBy = new Map();
    this.droppedUntracked = 0;
    return report;
  }
}
