import type { HeldVersion, ServedState } from '../view.js';

// The fuse-native engine's open files (fs/ops.ts: open, read, release): a handle number for each,
// reading the version it opened until it is released or revoked. The native engine keeps its handles in
// C (fs/native/hushfs_*.c) and never uses this.
//
//  - open() holds the file's current version (VersionHolds): a rotation does not change what an open
//    handle reads, and its owner zeroes the old version once the last handle on it lets go;
//  - a change that revokes the handle's binding (ViewDelta.revokedBindings: its task, in this
//    incarnation, no longer has that target for that secret) fails its next read and lets its version
//    go at once; the handle itself stays until released;
//  - the table follows the changes only while a handle is open.

export interface HandleSource {
  /** Opens the file's current version; the handle reads that version until released or revoked. */
  open(path: string): number | undefined;
  /** Bytes of the handle's version, or 'revoked' / 'bad-handle'. */
  read(fd: number, position: number, length: number): Buffer | 'revoked' | 'bad-handle';
  release(fd: number): void;
}

interface Handle {
  binding: string;
  held: HeldVersion;
  revoked: boolean;
}

/** fuse-native passes a handle through an int32 and treats 0 as "no handle". */
const MAX_HANDLE = 0x7fffffff;

export class FuseNativeHandles implements HandleSource {
  private handles = new Map<number, Handle>();
  /** Binding → the handles opened through it and not revoked. */
  private byBinding = new Map<string, Set<number>>();
  private nextHandle = 1;
  private unfollow?: () => void;

  constructor(private readonly state: ServedState) {}

  /** Handles not released yet (revoked ones included). */
  get openHandles(): number {
    return this.handles.size;
  }

  open(path: string): number | undefined {
    const found = this.state.lookup(path);
    if (found?.kind !== 'file') return undefined;
    const held = this.state.hold(found.version);
    if (!held) return undefined;
    this.unfollow ??= this.state.onChange((delta) => this.revoke(delta.revokedBindings));
    const fd = this.allocHandle();
    this.handles.set(fd, { binding: found.binding, held, revoked: false });
    const fds = this.byBinding.get(found.binding);
    if (fds) fds.add(fd);
    else this.byBinding.set(found.binding, new Set([fd]));
    return fd;
  }

  read(fd: number, position: number, length: number): Buffer | 'revoked' | 'bad-handle' {
    const h = this.handles.get(fd);
    if (!h) return 'bad-handle';
    if (h.revoked) return 'revoked';
    const data = h.held.data;
    return data.subarray(Math.min(position, data.length), Math.min(position + length, data.length));
  }

  release(fd: number): void {
    const h = this.handles.get(fd);
    if (!h) return;
    this.handles.delete(fd);
    if (!h.revoked) {
      const fds = this.byBinding.get(h.binding)!;
      fds.delete(fd);
      if (fds.size === 0) this.byBinding.delete(h.binding);
      h.held.release();
    }
    if (this.handles.size === 0) {
      this.unfollow?.();
      this.unfollow = undefined;
    }
  }

  /** Every handle opened through these bindings fails its next read, and its version is let go now. */
  private revoke(bindings: readonly string[]): void {
    for (const binding of bindings) {
      const fds = this.byBinding.get(binding);
      if (!fds) continue;
      this.byBinding.delete(binding);
      for (const fd of fds) {
        const h = this.handles.get(fd)!;
        h.revoked = true;
        h.held.release();
      }
    }
  }

  /** 1 .. 2^31-1, wrapping around, skipping numbers still in use. */
  private allocHandle(): number {
    for (;;) {
      const fd = this.nextHandle;
      this.nextHandle = fd >= MAX_HANDLE ? 1 : fd + 1;
      if (!this.handles.has(fd)) return fd;
    }
  }
}
