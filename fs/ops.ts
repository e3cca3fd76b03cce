import { constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ViewSource } from './view.js';
import type { HandleSource } from './engines/fuse-native-handles.js';

// The fuse-native operations: a read-only view (fs/view.ts), its open files in a FuseNativeHandles.
//
//   /                       root:root 0711 (ROOT_MODE)
//   /<task name>/           uid/gid of the task's first reference, mode from the view (dirMode)
//   /<task name>/<target>   the reference's uid, gid, mode; size = payload length; mtime = version time
//   /<service>/<target>     the same files, when the node has exactly one task of that service
//
// Every handler runs on the JS thread (fuse-native hands each FUSE request from libfuse's threads to
// the event loop): each is a map lookup in the view or the handles and one callback, nothing more. No handler
// may block, await, touch the network or log a secret value.
//
// fuse-native's callback convention: the first argument is the result, a negative errno or >= 0
// (for read: the byte count); it must be a number (`cb(null, fd)` leaves the caller hanging).

const E = osConstants.errno;
export const ENOENT = -E.ENOENT;
export const EIO = -E.EIO;
export const EBADF = -E.EBADF;
export const EACCES = -E.EACCES;
export const EISDIR = -E.EISDIR;
export const ENOTDIR = -E.ENOTDIR;
export const EROFS = -E.EROFS;

const S_IFDIR = fsConstants.S_IFDIR;
const S_IFREG = fsConstants.S_IFREG;
const O_ACCMODE = 3;
const O_RDONLY = fsConstants.O_RDONLY;
const O_WRITE_EFFECT = fsConstants.O_TRUNC | fsConstants.O_APPEND | fsConstants.O_CREAT;
const ST_RDONLY = 1;
const ST_NOSUID = 2;
const BLOCK = 4096;
/**
 * The root's mode: only root may list it (every task and service name on the node); any uid may
 * traverse it to a task directory whose name it knows, whose own mode then decides. The native
 * engine uses the same (ROOT_MODE in fs/native/hushfs_state.h).
 */
export const ROOT_MODE = 0o711;

/** The stat fields fuse-native reads (getStatArray); times in milliseconds. */
export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  blksize: number;
  blocks: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface FuseStatfs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

type Done = (result: number) => void;

/** The subset of fuse-native's operations hush implements. */
export interface FuseOps {
  getattr(path: string, cb: (result: number, stat?: FuseStat) => void): void;
  readdir(path: string, cb: (result: number, names?: string[]) => void): void;
  open(path: string, flags: number, cb: (result: number, fd?: number) => void): void;
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Done): void;
  release(path: string, fd: number, cb: Done): void;
  statfs(path: string, cb: (result: number, statfs?: FuseStatfs) => void): void;
  // Every write-type operation: EROFS.
  write(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Done): void;
  create(path: string, mode: number, cb: (result: number, fd?: number) => void): void;
  mknod(path: string, mode: number, dev: number, cb: Done): void;
  mkdir(path: string, mode: number, cb: Done): void;
  unlink(path: string, cb: Done): void;
  rmdir(path: string, cb: Done): void;
  rename(src: string, dest: string, cb: Done): void;
  link(src: string, dest: string, cb: Done): void;
  symlink(src: string, dest: string, cb: Done): void;
  chmod(path: string, mode: number, cb: Done): void;
  chown(path: string, uid: number, gid: number, cb: Done): void;
  truncate(path: string, size: number, cb: Done): void;
  ftruncate(path: string, fd: number, size: number, cb: Done): void;
  utimens(path: string, atime: number, mtime: number, cb: Done): void;
  setxattr(path: string, name: string, value: Buffer, position: number, flags: number, cb: Done): void;
  removexattr(path: string, name: string, cb: Done): void;
}

export interface OpsOptions {
  /** Times of the root directory (the mount time). */
  rootTimeMs: number;
  /** Called with an unexpected exception from a handler (a bug); the request gets EIO. Never given secret data. */
  onError?: (op: string, err: unknown) => void;
}

/**
 * Builds the handlers. Operations not listed here (access, flush, fsync, opendir, releasedir, getxattr,
 * listxattr, readlink, fgetattr) are left to libfuse's defaults, which answer without a trip to the JS
 * thread: ENOSYS makes the kernel stop asking (flush, getxattr) or fall back (fgetattr → getattr), and
 * with `default_permissions` the kernel checks modes itself.
 */
export function createOps(secrets: Pick<ViewSource, 'lookup'>, handles: HandleSource, options: OpsOptions): FuseOps {
  const t = options.rootTimeMs;
  const rootStat: FuseStat = { mode: S_IFDIR | ROOT_MODE, uid: 0, gid: 0, size: 0, nlink: 2, blksize: BLOCK, blocks: 0, atime: t, mtime: t, ctime: t };
  const failed = (op: string, err: unknown, cb: Done) => {
    try {
      options.onError?.(op, err);
    } finally {
      cb(EIO);
    }
  };
  const readOnly = (cb: Done) => cb(EROFS);

  return {
    getattr(path, cb) {
      try {
        if (path === '/') return cb(0, rootStat);
        const found = secrets.lookup(path);
        if (!found) return cb(ENOENT);
        switch (found.kind) {
          case 'file': {
            const { ref, size, mtimeMs } = found;
            return cb(0, {
              mode: S_IFREG | (ref.mode & 0o777),
              uid: ref.uid,
              gid: ref.gid,
              size,
              nlink: 1,
              blksize: BLOCK,
              blocks: Math.ceil(size / 512),
              atime: mtimeMs,
              mtime: mtimeMs,
              ctime: mtimeMs,
            });
          }
          case 'dir': {
            const { uid, gid, mode, mtimeMs } = found;
            return cb(0, { mode: S_IFDIR | (mode & 0o777), uid, gid, size: 0, nlink: 2, blksize: BLOCK, blocks: 0, atime: mtimeMs, mtime: mtimeMs, ctime: mtimeMs });
          }
          default:
            return cb(0, rootStat);
        }
      } catch (err) {
        failed('getattr', err, cb);
      }
    },

    readdir(path, cb) {
      try {
        const found = secrets.lookup(path);
        if (!found) return cb(ENOENT);
        if (found.kind === 'file') return cb(ENOTDIR);
        if (found.kind === 'root') return cb(0, ['.', '..', ...found.names]);
        const names = ['.', '..'];
        const prefix = path + '/';
        for (const f of found.task.files) if (secrets.lookup(prefix + f.target)?.kind === 'file') names.push(f.target);
        return cb(0, names);
      } catch (err) {
        failed('readdir', err, cb);
      }
    },

    open(path, flags, cb) {
      try {
        const found = secrets.lookup(path);
        if (!found) return cb(ENOENT);
        if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_WRITE_EFFECT) !== 0) return cb(EROFS);
        if (found.kind !== 'file') return cb(EISDIR);
        const fd = handles.open(path);
        // A handle is >= 1: fuse-native ignores 0 (it would leave fh unset).
        if (fd === undefined || fd < 1) return cb(ENOENT);
        return cb(0, fd);
      } catch (err) {
        failed('open', err, cb);
      }
    },

    read(_path, fd, buf, len, pos, cb) {
      try {
        const data = handles.read(fd, pos, len);
        if (data === 'revoked') return cb(EACCES);
        if (data === 'bad-handle') return cb(EBADF);
        return cb(data.copy(buf, 0, 0, Math.min(data.length, len, buf.length)));
      } catch (err) {
        failed('read', err, cb);
      }
    },

    release(_path, fd, cb) {
      try {
        handles.release(fd);
        return cb(0);
      } catch (err) {
        failed('release', err, cb);
      }
    },

    statfs(_path, cb) {
      try {
        const root = secrets.lookup('/');
        const dirs = root?.kind === 'root' ? root.names.length : 0;
        return cb(0, { bsize: BLOCK, frsize: BLOCK, blocks: 0, bfree: 0, bavail: 0, files: dirs, ffree: 0, favail: 0, fsid: 0, flag: ST_RDONLY | ST_NOSUID, namemax: 255 });
      } catch (err) {
        failed('statfs', err, cb);
      }
    },

    write: (_p, _fd, _b, _l, _pos, cb) => readOnly(cb),
    create: (_p, _m, cb) => readOnly(cb),
    mknod: (_p, _m, _d, cb) => readOnly(cb),
    mkdir: (_p, _m, cb) => readOnly(cb),
    unlink: (_p, cb) => readOnly(cb),
    rmdir: (_p, cb) => readOnly(cb),
    rename: (_s, _d, cb) => readOnly(cb),
    link: (_s, _d, cb) => readOnly(cb),
    symlink: (_s, _d, cb) => readOnly(cb),
    chmod: (_p, _m, cb) => readOnly(cb),
    chown: (_p, _u, _g, cb) => readOnly(cb),
    truncate: (_p, _s, cb) => readOnly(cb),
    ftruncate: (_p, _fd, _s, cb) => readOnly(cb),
    utimens: (_p, _a, _m, cb) => readOnly(cb),
    setxattr: (_p, _n, _v, _pos, _f, cb) => readOnly(cb),
    removexattr: (_p, _n, cb) => readOnly(cb),
  };
}

/** The names of the write-type operations (all answer EROFS). */
export const WRITE_OPS = [
  'write', 'create', 'mknod', 'mkdir', 'unlink', 'rmdir', 'rename', 'link', 'symlink',
  'chmod', 'chown', 'truncate', 'ftruncate', 'utimens', 'setxattr', 'removexattr',
] as const;
