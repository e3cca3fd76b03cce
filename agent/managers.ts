// The managers an agent follows and the order it tries them in. The --manager list is only the
// starting point: once a manager announces the cluster's set (AssignmentsMessage.managers), that set
// replaces it, so the agent learns managers that joined and drops removed ones.
import { isHostPort } from '../common/host-port.js';

/** More than this in one announcement is not a cluster's managers: the rest is ignored. */
export const MAX_MANAGERS = 64;

export interface Learned {
  /** Whether the list changed (and the rotation with it). */
  changed: boolean;
  /** Entries left out: not HOST:PORT, or beyond MAX_MANAGERS (for one warning). */
  ignored: string[];
}

export class ManagerList {
  private list: string[];
  /** Index of the manager the next take() returns. */
  private next: number;
  /** Whether the list is one a manager announced (else the --manager list). */
  learned = false;

  /** `random` returns [0, 1): where the rotation starts (agents spread over the managers). */
  constructor(initial: readonly string[], private readonly random: () => number = Math.random) {
    if (!initial.length) throw new Error('no manager address');
    this.list = [...new Set(initial)];
    this.next = this.randomIndex();
  }

  get addresses(): readonly string[] {
    return this.list;
  }

  /** The manager to try now; the following one is tried next time. */
  take(): string {
    const addr = this.list[this.next];
    this.next = (this.next + 1) % this.list.length;
    return addr;
  }

  /**
   * The set a manager announced. Entries that are not HOST:PORT are left out; if none is left the
   * announcement is ignored. A different set (in any order) replaces the list; the rotation then
   * goes on after `following` (the manager the agent is connected to) when the set has it, so that
   * the try after it fails goes to another one; else it starts at a random one.
   */
  learn(announced: readonly string[], following?: string): Learned {
    const valid = [...new Set(announced.filter((a) => typeof a === 'string' && isHostPort(a)))];
    const kept = valid.slice(0, MAX_MANAGERS).sort();
    const ignored = announced.filter((a) => !kept.includes(a));
    if (!kept.length) return { changed: false, ignored };
    const same = kept.length === this.list.length && kept.every((a) => this.list.includes(a));
    this.learned = true;
    if (same) return { changed: false, ignored };
    this.list = kept;
    const at = following === undefined ? -1 : kept.indexOf(following);
    this.next = at >= 0 ? (at + 1) % kept.length : this.randomIndex();
    return { changed: true, ignored };
  }

  private randomIndex(): number {
    return Math.min(this.list.length - 1, Math.floor(this.random() * this.list.length));
  }
}
