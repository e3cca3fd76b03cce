import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './package.js';

// hush's system-call addon (common/native/sys.c, whose header says what each call does), built by
// package.json's "install" script (run by `npm ci`). It makes the system calls the agent and the
// manager need and Node cannot make, without ever spawning a child process.

export interface NativeSys {
  /** umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW); throws an Error whose `code` is the errno name (EINVAL: not a mount point). */
  detachUnmount(path: string): void;
  /** Sets FD_CLOEXEC on every /dev/fuse descriptor and every socket of this process that lacks it (libfuse2 leaves them inheritable); returns how many it marked. */
  cloexecFuseFds(): number;
  /**
   * sd_notify(3) without exec: sends `message` as one datagram to the AF_UNIX socket `socket` (an
   * absolute path, or '@name' for the abstract namespace), i.e. what $NOTIFY_SOCKET names.
   */
  sdNotify(socket: string, message: string): void;
  /** setrlimit(RLIMIT_CORE, 0) and prctl(PR_SET_DUMPABLE, 0): no core dump of a process holding secrets. */
  noCoreDumps(): void;
  /**
   * mount(source, target, NULL, MS_BIND, NULL); with `readonly`, then a bind remount of the new mount
   * MS_RDONLY|MS_NOSUID|MS_NODEV (if that fails, the bind is detached again and the promise rejects).
   * Runs on a libuv threadpool thread: resolving a path of this process's own FUSE mount needs FUSE
   * requests that only the JS thread answers, so a synchronous call would deadlock. Rejects with an
   * Error whose `code` is the errno name.
   */
  bindMount(source: string, target: string, readonly?: boolean): Promise<void>;
  /** detachUnmount on a threadpool thread (for paths that may lead into this process's FUSE mount). */
  detachUnmountAsync(path: string): Promise<void>;
  /** mount(NULL, path, NULL, MS_PRIVATE | MS_SHARED | MS_SLAVE, NULL): the propagation type of an existing mount point. */
  setPropagation(path: string, kind: 'private' | 'shared' | 'slave'): void;
  // Descriptor passing (common/native/fdpass.c; use them through common/fd-passing.ts).
  /** One sendmsg of `payload` (1 byte to 1 MiB) with `fds` as SCM_RIGHTS on a connected AF_UNIX socket; returns the bytes sent. */
  sendFds(socketFd: number, fds: number[], payload: Buffer): number;
  /** poll up to timeoutMs (default 0), then one recvmsg(MSG_CMSG_CLOEXEC); too many fds or a truncated datagram throw EMSGSIZE with every received fd closed. */
  recvFds(socketFd: number, maxFds: number, maxBytes: number, timeoutMs?: number): { payload: Buffer; fds: number[] };
  /** SO_PEERCRED: the peer process at connect() time. */
  peerCredentials(socketFd: number): { pid: number; uid: number; gid: number };
  /** One datagram `message` with `fds` as SCM_RIGHTS to the notify socket (path or '@abstract'). */
  sdNotifyWithFds(socket: string, message: string, fds: number[]): void;
  /** A new AF_UNIX SOCK_DGRAM socket bound at `path` (or '@abstract'), close-on-exec. */
  unixDatagramSocket(path: string): number;
  /** Sets FD_CLOEXEC on fd (EBADF if it is not open). */
  setCloexec(fd: number): void;
}

const ADDON = join('common', 'native', 'build', 'Release', 'hush_sys.node');

let loaded: NativeSys | undefined;

export function nativeSys(): NativeSys {
  if (loaded) return loaded;
  const root = packageRoot();
  const file = join(root, ADDON);
  if (!existsSync(file)) {
    throw new Error(`hush: native addon ${ADDON} is not built; run \`npm ci\` (or \`npm run install\`) in ${root}`);
  }
  loaded = createRequire(import.meta.url)(file) as NativeSys;
  return loaded;
}

/** detachUnmount that returns false instead of throwing when nothing is mounted there (EINVAL). */
export function detachUnmountIfMounted(path: string): boolean {
  try {
    nativeSys().detachUnmount(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw err;
  }
}

/** detachUnmountAsync that resolves false instead of rejecting when nothing is mounted there (EINVAL). */
export async function detachUnmountIfMountedAsync(path: string): Promise<boolean> {
  try {
    await nativeSys().detachUnmountAsync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw err;
  }
}
