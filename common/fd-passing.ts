// Passing open descriptors between processes (issue 11: the /dev/fuse connection outlives an agent
// restart), over the native addon (common/native/fdpass.c) since Node cannot send or receive SCM_RIGHTS:
//  - to the next agent directly: sendFds/recvFds on a unix socket, the peer checked with peerCredentials;
//  - to systemd's file-descriptor store: storeFd (sd_notify FDSTORE=1), returned at the next start as
//    $LISTEN_FDS, which listenFds reads the way sd_listen_fds_with_names(3) does.
// The calls are synchronous and small: recvFds waits at most its timeoutMs on the JS thread.
//
// A net.Socket whose fd is used here must never be read by Node itself (libuv would swallow the
// message and close its descriptors): accept with net.createServer({ pauseOnConnect: true }) and
// connect with connectUnix below, which pauses the socket before it connects.
import net from 'node:net';
import { nativeSys } from './native.js';

/** systemd passes stored and socket-activated descriptors from this number up (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** The OS descriptor of a connected unix net.Socket or a listening net.Server (node keeps it in `_handle.fd`). */
export function socketFd(s: net.Socket | net.Server): number {
  const fd = (s as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new Error('fd-passing: this socket has no descriptor (not connected yet, closed, or not a unix socket)');
  }
  return fd;
}

/** Connects to the unix socket `path` with Node never reading from it (its fd is for recvFds/sendFds). */
export function connectUnix(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path });
    s.pause(); // before 'connect': node then never starts reading (afterConnect reads only if not paused)
    s.once('error', reject);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

/** Sends `payload` (1 byte to 1 MiB) with `fds` attached, as one message on a connected unix socket fd. */
export function sendFds(socketFd: number, fds: number[], payload: Buffer): void {
  nativeSys().sendFds(socketFd, fds, payload);
}

export interface Received {
  payload: Buffer;
  /** Open, close-on-exec descriptors now owned by the caller (close them with fs.closeSync). */
  fds: number[];
}

/**
 * Receives one message: waits up to timeoutMs (0: only what is already there; ETIMEDOUT / EAGAIN
 * otherwise). An empty payload without fds on a stream socket means the peer closed it. More than
 * maxFds descriptors or a datagram longer than maxBytes throw EMSGSIZE, with every received fd closed.
 */
export function recvFds(socketFd: number, maxFds: number, maxBytes: number, timeoutMs = 0): Received {
  return nativeSys().recvFds(socketFd, maxFds, maxBytes, timeoutMs);
}

export interface PeerCredentials { pid: number; uid: number; gid: number }

/** The process at the other end of a connected unix socket, as the kernel saw it at connect() (SO_PEERCRED). */
export function peerCredentials(socketFd: number): PeerCredentials {
  return nativeSys().peerCredentials(socketFd);
}

/**
 * sd_pid_notify_with_fds(0, 0, state, fds) without libsystemd: one datagram to $NOTIFY_SOCKET (an
 * absolute path or '@abstract' name) carrying `fds`. Returns false when NOTIFY_SOCKET is unset or
 * empty (not run by systemd); throws on an unusable address or a failed send.
 */
export function sdNotify(state: string, fds: number[] = [], env: NodeJS.ProcessEnv = process.env): boolean {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return false;
  if (!socket.startsWith('/') && !socket.startsWith('@')) {
    throw new Error(`NOTIFY_SOCKET must be an absolute path or an @abstract name, not ${JSON.stringify(socket.slice(0, 120))}`);
  }
  nativeSys().sdNotifyWithFds(socket, state, fds);
  return true;
}

const FD_NAME = /^[\x21-\x39\x3b-\x7e]{1,255}$/; // systemd's fdname_is_valid: printable ASCII, no ':', at most 255

/**
 * Puts `fd` in the unit's file-descriptor store under `name` (needs FileDescriptorStoreMax= >= 1);
 * systemd keeps a duplicate, so the caller still owns `fd`. False when not run by systemd.
 */
export function storeFd(name: string, fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!FD_NAME.test(name)) throw new Error(`storeFd: name must be 1 to 255 printable ASCII characters without ':' or spaces`);
  return sdNotify(`FDSTORE=1\nFDNAME=${name}`, [fd], env);
}

export interface ListenFd { fd: number; name: string }

export interface ListenFdsOptions {
  /** Delete LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from env afterwards (also on error), so that children do not see them. */
  unset?: boolean;
  /** The pid the variables must name (default this process). */
  pid?: number;
}

/** A decimal number of 1 to 10 digits, or an error naming the variable. */
function decimal(name: string, value: string): number {
  if (!/^[0-9]{1,10}$/.test(value)) throw new Error(`${name} must be a decimal number, not ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value);
}

/**
 * The descriptors systemd passed to this process, as sd_listen_fds_with_names(3): none when LISTEN_PID
 * is unset or names another process (the variables were inherited by a child) or LISTEN_FDS is unset
 * or 0; fds LISTEN_FDS_START .. +LISTEN_FDS-1, named by the ':'-separated LISTEN_FDNAMES (whose count
 * must match) or 'unknown'; each is set close-on-exec. Bad values throw a one-line Error.
 */
export function listenFds(env: NodeJS.ProcessEnv = process.env, opts: ListenFdsOptions = {}): ListenFd[] {
  try {
    const pidText = env.LISTEN_PID;
    if (pidText === undefined) return [];
    const pid = decimal('LISTEN_PID', pidText);
    if (pid <= 0) throw new Error('LISTEN_PID must be a positive process id');
    if (pid !== (opts.pid ?? process.pid)) return [];
    const countText = env.LISTEN_FDS;
    if (countText === undefined) return [];
    const count = decimal('LISTEN_FDS', countText);
    if (count === 0) return [];
    if (count > 0x7fffffff - LISTEN_FDS_START) throw new Error(`LISTEN_FDS is out of range (${count})`);
    const namesText = env.LISTEN_FDNAMES;
    // As systemd splits it: separators are not coalesced ("a::b" is three names, the middle one empty).
    const names = namesText === undefined ? new Array<string>(count).fill('unknown') : namesText === '' ? [] : namesText.split(':');
    if (names.length !== count) throw new Error(`LISTEN_FDNAMES names ${names.length} descriptor(s) but LISTEN_FDS is ${count}`);
    const sys = nativeSys();
    return names.map((name, i) => {
      const fd = LISTEN_FDS_START + i;
      try {
        sys.setCloexec(fd);
      } catch (err) {
        throw new Error(`LISTEN_FDS names descriptor ${fd}, which is not open: ${(err as Error).message}`);
      }
      return { fd, name };
    });
  } finally {
    if (opts.unset) {
      delete env.LISTEN_PID;
      delete env.LISTEN_FDS;
      delete env.LISTEN_FDNAMES;
    }
  }
}
