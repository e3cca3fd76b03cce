import { chmod, lstat, mkdir, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { TaskSource } from './view.js';
import { canonicalMountPoint } from './mountpoint.js';
import { claimAnchorDirectory } from './anchor-owner.js';
import { isUnder, peerGroup, readMountInfo, type MountInfoEntry } from './mountinfo.js';
import { detachUnmountIfMountedAsync, nativeSys } from '../common/native.js';

// Per-task propagation anchors: containers survive an agent restart.
//
// A container that bind-mounts <mount>/<task> holds the FUSE connection of the agent that served it
// when it started: after an agent restart that connection is dead and the container reads ENOTCONN
// for good. Instead, a consumer bind-mounts DIR/<task> with bind-propagation=rslave, where DIR (the
// anchor directory, default /run/hush) is a bind mount of itself in its own shared peer group, and
// the agent binds <mount>/<task> onto DIR/<task>/secrets. Mount events under DIR propagate to the
// consumers' slave mounts: when the agent stops it detaches the binds (the consumers see an empty
// directory: ENOENT), and when it serves again it binds the new mount (the consumers read again).
//
//  - start(): DIR exists (0755) and is its own shared peer group (idempotent: an existing one is kept,
//    or the consumers' slave mounts of it would lose their master); mounts left under DIR by a killed
//    agent (dead FUSE connections: ENOTCONN) are detached, so consumers see ENOENT until the next bind.
//    DIR/.hush-agent names the agent using DIR: a second live agent is refused (it would detach the
//    first one's binds; fs/anchor-owner.ts).
//  - sync(): the bound anchors become exactly the node's served task directories (task names, not the
//    service aliases; not a name two services claim, which the view does not serve). follow() runs it now and after every change of NodeSecrets. Runs never overlap.
//  - stop(): detaches every bind under DIR (they propagate to the consumers). DIR and the empty
//    DIR/<task>/secrets directories stay: a consumer bound to a directory that was removed and
//    recreated would never see a later mount on the new one.
//
// Every mount(2)/umount2(2) of a path that may lead into the FUSE mount runs on a libuv threadpool
// thread (the addon's async work): resolving <mount>/<task> sends FUSE requests that this process's JS
// thread must answer, so a synchronous call would deadlock. Binds are read-only (the FUSE mount and
// its superblock are ro; the bind is also remounted MS_RDONLY, and verified in mountinfo once per pass).

/** The directory below DIR/<task> on which <mount>/<task> is bound: consumers read DIR/<task>/secrets/<target>. */
export const ANCHOR_SUBDIR = 'secrets';

/** A task name usable as one path component (the manager only makes `service.slot` or `service`). */
const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** A failed bind or detach is retried after RETRY_MIN_MS, doubling up to RETRY_MAX_MS while it keeps failing. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;
const MAX_DETACH = 16;

/** How makeShared left the directory. */
export type SharedResult = 'created' | 'kept' | 'reshared';

/**
 * Makes `dir` (canonical path, an existing directory) a mount point in its own shared peer group,
 * idempotently:
 *  - not a mount point: bind it onto itself, then make it private (out of its parent's peer group, so
 *    nothing mounted below propagates to the parent's peers) and shared (a new peer group) → 'created';
 *  - a mount point that is shared and whose peer group has no other member in this mount namespace:
 *    left alone → 'kept' (making it private again would orphan the slave mounts of the consumers);
 *  - any other mount point (private, slave, or a peer of another mount here): private, then shared
 *    → 'reshared'.
 * The bind and the propagation changes are mount(2) calls of the addon (fs/native).
 */
export async function makeShared(dir: string): Promise<SharedResult> {
  const native = nativeSys();
  let result: SharedResult = 'reshared';
  let top = (await readMountInfo()).filter((m) => m.mountPoint === dir).pop();
  if (!top) {
    await native.bindMount(dir, dir);
    top = (await readMountInfo()).filter((m) => m.mountPoint === dir).pop();
    if (!top) throw new Error(`hush: ${dir} is not a mount point after binding it onto itself`);
    result = 'created';
  } else {
    const group = peerGroup(top);
    if (group !== undefined) {
      const all = await readMountInfo();
      if (!all.some((m) => m.id !== top!.id && peerGroup(m) === group)) return 'kept';
    }
  }
  native.setPropagation(dir, 'private');
  native.setPropagation(dir, 'shared');
  return result;
}

/** Mounts strictly below `dir`, deepest first (a stack at one path: top first). */
async function mountsBelow(dir: string): Promise<MountInfoEntry[]> {
  const all = (await readMountInfo()).filter((m) => isUnder(m.mountPoint, dir));
  return all.map((m, i) => ({ m, i })).sort((a, b) => b.m.mountPoint.length - a.m.mountPoint.length || b.i - a.i).map((x) => x.m);
}

async function ensureDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  const st = await lstat(path);
  if (!st.isDirectory()) throw new Error(`hush: ${path} is not a directory`);
  // The agent's umask may be 0077 (systemd unit): consumers of other uids must traverse it.
  if ((st.mode & 0o7777) !== 0o755) await chmod(path, 0o755);
}

export class TaskAnchors {
  /** The anchor directory (canonical once start() has run). */
  dir: string;
  /** Task name → its anchor mount point (DIR/<task>/secrets), for every bind made and not yet detached. */
  private readonly bound = new Map<string, string>();
  private unsubscribe?: () => void;
  private dirty = false;
  private running?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_MIN_MS;
  private started = false;
  private stopped = false;

  constructor(
    dir: string,
    private mountPoint: string,
    private readonly secrets: TaskSource,
    private readonly log?: Logger,
  ) {
    if (!dir.startsWith('/')) throw new Error(`hush: the anchor directory must be an absolute path (got ${JSON.stringify(dir)})`);
    this.dir = resolve(dir);
  }

  /** Prepares DIR (0755), makes it its own shared peer group, and detaches whatever a killed agent left under it. */
  async start(): Promise<void> {
    if (this.dir === '/') throw new Error('hush: refusing to use / as the anchor directory');
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    this.dir = await realpath(this.dir);
    this.mountPoint = await canonicalMountPoint(this.mountPoint);
    const d = this.dir;
    const mp = this.mountPoint;
    if (d === '/' || d === mp || isUnder(d, mp) || isUnder(mp, d)) {
      throw new Error(`hush: the anchor directory ${d} and the mount point ${mp} must not contain each other`);
    }
    await ensureDirectory(d);
    await claimAnchorDirectory(d, mp);
    const shared = await makeShared(d);
    const top = (await readMountInfo()).filter((m) => m.mountPoint === d).pop();
    this.log?.info({ anchors: d, propagation: shared, peerGroup: top && peerGroup(top) }, shared === 'kept' ? 'anchor directory already its own shared peer group' : 'anchor directory made its own shared peer group');

    const left = await this.detachAllBelow();
    if (left > 0) this.log?.warn({ anchors: d, detached: left }, 'detached mounts left in the anchor directory (an agent that did not stop cleanly)');
    this.started = true;
  }

  /** Runs sync() now and after every change of the node's tasks, until stop(). */
  follow(): Promise<void> {
    if (!this.started) throw new Error('hush: TaskAnchors.follow() before start()');
    this.unsubscribe ??= this.secrets.onChange(() => void this.sync());
    return this.sync();
  }

  /**
   * Binds or detaches so that the anchors are exactly the current task directories. Resolves once a run
   * that started after this call has finished. Never rejects: failures are logged and retried.
   */
  sync(): Promise<void> {
    if (this.stopped || !this.started) return Promise.resolve();
    this.dirty = true;
    this.running ??= this.loop();
    return this.running;
  }

  /** Task name → the directory a consumer bind-mounts (DIR/<task>), for the tasks bound now. */
  anchors(): Map<string, string> {
    return new Map([...this.bound.keys()].map((name) => [name, join(this.dir, name)]));
  }

  /** Stops following and detaches every bind under DIR (which propagates to the consumers). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.retryTimer);
    await this.running;
    if (!this.started) return;
    const n = await this.detachAllBelow();
    this.bound.clear();
    this.log?.info({ anchors: this.dir, detached: n }, 'task anchors detached');
  }

  // ---- internals ----

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        await this.pass();
      }
    } finally {
      // Synchronously after the last check of `dirty`: a sync() from now on starts a new loop.
      this.running = undefined;
    }
  }

  private async pass(): Promise<void> {
    const want = new Set<string>();
    for (const t of this.secrets.taskList()) {
      // A name two services claim is not served (NodeSecrets logs it): not anchored either, and unbound if it was.
      if (this.secrets.unservedReason(t) !== undefined) continue;
      if (TASK_NAME.test(t.name)) want.add(t.name);
      else this.log?.warn({ task: t.name }, 'task name cannot be an anchor directory; not anchored');
    }
    const bound: string[] = [];
    const detached: string[] = [];
    let failed = 0;
    for (const name of [...this.bound.keys()]) {
      if (want.has(name) || this.stopped) continue;
      try {
        await this.unbind(name);
        detached.push(name);
      } catch (err) {
        failed++;
        this.log?.error({ task: name, anchor: this.bound.get(name), err: (err as Error).message }, 'cannot detach a task anchor');
      }
    }
    for (const name of want) {
      if (this.bound.has(name) || this.stopped) continue;
      // The task may have gone since the list was taken: the next run (dirty) detaches it again.
      try {
        await this.bind(name);
        bound.push(name);
      } catch (err) {
        failed++;
        this.log?.error({ task: name, err: (err as Error).message }, 'cannot bind a task anchor');
      }
    }
    failed += await this.detachUnlessReadOnly(bound);
    if (bound.length || detached.length) this.log?.info({ anchors: this.dir, bound, detached, total: this.bound.size }, 'task anchors updated');
    clearTimeout(this.retryTimer);
    if (failed > 0 && !this.stopped) {
      this.retryTimer = setTimeout(() => void this.sync(), this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    } else {
      this.retryMs = RETRY_MIN_MS;
    }
  }

  private async bind(name: string): Promise<void> {
    const taskDir = join(this.dir, name);
    const anchor = join(taskDir, ANCHOR_SUBDIR);
    // Whatever is mounted there (from a run that failed half-way) goes first, before any stat of it.
    await this.detachAt(anchor);
    await ensureDirectory(taskDir);
    await ensureDirectory(anchor);
    await nativeSys().bindMount(join(this.mountPoint, name), anchor, true);
    this.bound.set(name, anchor);
  }

  /**
   * Checks in one read of mountinfo that the anchors just bound are read-only mounts (the addon
   * remounts each bind MS_RDONLY, or fails); detaches any that is not. Returns how many it detached.
   * (One read per pass: mountinfo grows with every anchor, so a read per bind would make binding N
   * anchors cost N².)
   */
  private async detachUnlessReadOnly(names: string[]): Promise<number> {
    if (!names.length) return 0;
    const top = new Map<string, MountInfoEntry>();
    for (const m of await readMountInfo()) top.set(m.mountPoint, m); // the last entry at a path is the top one
    let detached = 0;
    for (const name of names) {
      const anchor = this.bound.get(name);
      if (!anchor) continue;
      const m = top.get(anchor);
      if (m?.mountOptions.includes('ro')) continue;
      detached++;
      this.log?.error({ task: name, anchor, options: m ? m.mountOptions.join(',') : 'no mount' }, 'a task anchor is not a read-only mount after binding it; detached');
      try {
        await this.unbind(name);
      } catch (err) {
        this.log?.error({ task: name, anchor, err: (err as Error).message }, 'cannot detach a task anchor');
      }
    }
    return detached;
  }

  private async unbind(name: string): Promise<void> {
    const anchor = this.bound.get(name)!;
    await this.detachAt(anchor);
    this.bound.delete(name);
  }

  /**
   * Detaches every mount stacked at `path`: umount2 until the kernel says it is not a mount point
   * (EINVAL) or not there (ENOENT). No mountinfo read: that costs as much as the mounts there are.
   */
  private async detachAt(path: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        if (!(await detachUnmountIfMountedAsync(path))) return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      if (i >= MAX_DETACH) throw new Error(`hush: cannot detach the mounts at ${path}`);
    }
  }

  /** Detaches every mount strictly below DIR, deepest first; returns how many it detached. */
  private async detachAllBelow(): Promise<number> {
    let n = 0;
    for (let round = 0; ; round++) {
      const below = await mountsBelow(this.dir);
      if (below.length === 0) return n;
      if (round >= MAX_DETACH) throw new Error(`hush: cannot detach the mounts below ${this.dir}: ${[...new Set(below.map((m) => m.mountPoint))].join(', ')}`);
      for (const m of below) {
        try {
          if (await detachUnmountIfMountedAsync(m.mountPoint)) n++;
        } catch (err) {
          this.log?.error({ mountPoint: m.mountPoint, err: (err as Error).message }, 'cannot detach a mount below the anchor directory');
        }
      }
    }
  }
}

