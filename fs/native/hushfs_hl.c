// See hushfs_hl.h. The operations read the tree under the read lock; an open handle holds its own
// references (blob, binding), so READ takes no lock.
//
// READ does not go through libfuse: libfuse2 copies a reply into a buffer it mallocs and frees without
// zeroing, which would leave secret bytes in the heap. The channel (chan_receive) answers every READ
// itself with one writev from the blob's own bytes and hands libfuse every other request.
//
// Unmounting is the caller's umount2(MNT_DETACH) (common/native/umount.c): the loop keeps serving
// files that stay open, ends by itself when the kernel drops the connection, and then destroys its
// fuse/session/channel (closing /dev/fuse) without calling fuse_unmount (which may exec).
// Nothing here ever execs; libfuse's own mount with auto_unmount starts its fusermount helper, as
// it does under fuse-native.
#define _GNU_SOURCE
#define FUSE_USE_VERSION 26
#include "hushfs_hl.h"

#include <fuse.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- FUSE operations (libfuse's threads) ---- */

static engine_t *current_engine(void) { return fuse_get_context()->private_data; }

static void fill_stat(const engine_t *e, const entry_t *en, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_uid = en->uid;
  st->st_gid = en->gid;
  st->st_blksize = BLOCK;
  if (en->kind == K_FILE) {
    st->st_mode = S_IFREG | (en->mode & 0777);
    st->st_nlink = 1;
    st->st_size = (off_t) en->blob->len;
    st->st_blocks = (blkcnt_t) ((en->blob->len + 511) / 512);
    st->st_atim = st->st_mtim = st->st_ctim = en->mtime;
  } else {
    st->st_mode = S_IFDIR | (en->mode & 0777);
    st->st_nlink = 2;
    st->st_atim = st->st_mtim = st->st_ctim = en->kind == K_ROOT ? e->root_time : en->mtime;
  }
}

static int hush_getattr(const char *path, struct stat *st) {
  engine_t *e = current_engine();
  pthread_rwlock_rdlock(&e->lock);
  entry_t *en = e->tree ? map_get(&e->tree->paths, path) : NULL;
  int res = -ENOENT;
  if (en) {
    fill_stat(e, en, st);
    res = 0;
  } else if (strcmp(path, "/") == 0) {
    entry_t root = { .kind = K_ROOT, .mode = ROOT_MODE };
    fill_stat(e, &root, st);
    res = 0;
  }
  pthread_rwlock_unlock(&e->lock);
  return res;
}

static int hush_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi) {
  (void) off;
  (void) fi;
  engine_t *e = current_engine();
  pthread_rwlock_rdlock(&e->lock);
  entry_t *en = e->tree ? map_get(&e->tree->paths, path) : NULL;
  int res = 0;
  if (!en && strcmp(path, "/") != 0) res = -ENOENT;
  else if (en && en->kind == K_FILE) res = -ENOTDIR;
  else {
    filler(buf, ".", NULL, 0);
    filler(buf, "..", NULL, 0);
    for (size_t i = 0; en && i < en->nnames; i++)
      if (filler(buf, en->names[i], NULL, 0) != 0) break;
  }
  pthread_rwlock_unlock(&e->lock);
  return res;
}

static int hush_open(const char *path, struct fuse_file_info *fi) {
  engine_t *e = current_engine();
  pthread_rwlock_rdlock(&e->lock);
  entry_t *en = e->tree ? map_get(&e->tree->paths, path) : NULL;
  int res;
  if (!en && strcmp(path, "/") != 0) res = -ENOENT;
  else if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_APPEND | O_CREAT)) != 0) res = -EROFS;
  else if (!en || en->kind != K_FILE) res = -EISDIR;
  else {
    handle_t *h = malloc(sizeof *h);
    if (!h) res = -ENOMEM;
    else {
      blob_ref(en->blob);
      binding_ref(en->binding);
      h->blob = en->blob;
      h->binding = en->binding;
      fi->fh = (uint64_t) (uintptr_t) h; /* what the kernel's READ and RELEASE carry */
      __atomic_add_fetch(&e->handle_count, 1, __ATOMIC_RELAXED);
      res = 0;
    }
  }
  pthread_rwlock_unlock(&e->lock);
  return res;
}

static int hush_release(const char *path, struct fuse_file_info *fi) {
  (void) path;
  handle_t *h = (handle_t *) (uintptr_t) fi->fh;
  if (!h) return 0;
  fi->fh = 0;
  engine_t *e = current_engine();
  blob_unref(h->blob);
  binding_unref(h->binding);
  free(h);
  __atomic_sub_fetch(&e->handle_count, 1, __ATOMIC_RELAXED);
  return 0;
}

static int hush_statfs(const char *path, struct statvfs *sv) {
  (void) path;
  engine_t *e = current_engine();
  pthread_rwlock_rdlock(&e->lock);
  size_t dirs = e->tree ? e->tree->root_names : 0;
  pthread_rwlock_unlock(&e->lock);
  memset(sv, 0, sizeof *sv);
  sv->f_bsize = BLOCK;
  sv->f_frsize = BLOCK;
  sv->f_files = dirs;
  sv->f_flag = ST_RDONLY | ST_NOSUID;
  sv->f_namemax = NAME_BYTES_MAX;
  return 0;
}

static void *hush_init(struct fuse_conn_info *conn) {
  engine_t *e = current_engine();
  conn->want &= ~FUSE_CAP_SPLICE_READ; /* every request through chan_receive (libfuse's default too) */
  e->events.on_init(e->events.ctx);
  return e;
}

/* The `ro` mount option makes the kernel refuse these itself; the stubs answer EROFS (not libfuse's
   ENOSYS) for anything that still gets here. */
static int ro_write(const char *p, const char *b, size_t s, off_t o, struct fuse_file_info *fi) { (void) p; (void) b; (void) s; (void) o; (void) fi; return -EROFS; }
static int ro_create(const char *p, mode_t m, struct fuse_file_info *fi) { (void) p; (void) m; (void) fi; return -EROFS; }
static int ro_mknod(const char *p, mode_t m, dev_t d) { (void) p; (void) m; (void) d; return -EROFS; }
static int ro_mkdir(const char *p, mode_t m) { (void) p; (void) m; return -EROFS; }
static int ro_path(const char *p) { (void) p; return -EROFS; }
static int ro_2paths(const char *a, const char *b) { (void) a; (void) b; return -EROFS; }
static int ro_chmod(const char *p, mode_t m) { (void) p; (void) m; return -EROFS; }
static int ro_chown(const char *p, uid_t u, gid_t g) { (void) p; (void) u; (void) g; return -EROFS; }
static int ro_truncate(const char *p, off_t s) { (void) p; (void) s; return -EROFS; }
static int ro_ftruncate(const char *p, off_t s, struct fuse_file_info *fi) { (void) p; (void) s; (void) fi; return -EROFS; }
static int ro_utimens(const char *p, const struct timespec tv[2]) { (void) p; (void) tv; return -EROFS; }
static int ro_setxattr(const char *p, const char *n, const char *v, size_t s, int f) { (void) p; (void) n; (void) v; (void) s; (void) f; return -EROFS; }
static int ro_removexattr(const char *p, const char *n) { (void) p; (void) n; return -EROFS; }

/* The operations of fs/ops.ts (READ: chan_receive); the others (access, flush, fsync, opendir,
   releasedir, getxattr, listxattr, readlink, fgetattr) are left to libfuse's defaults, as under fuse-native. */
static const struct fuse_operations hush_ops = {
  .getattr = hush_getattr,
  .readdir = hush_readdir,
  .open = hush_open,
  .release = hush_release,
  .statfs = hush_statfs,
  .init = hush_init,
  .write = ro_write,
  .create = ro_create,
  .mknod = ro_mknod,
  .mkdir = ro_mkdir,
  .unlink = ro_path,
  .rmdir = ro_path,
  .rename = ro_2paths,
  .link = ro_2paths,
  .symlink = ro_2paths,
  .chmod = ro_chmod,
  .chown = ro_chown,
  .truncate = ro_truncate,
  .ftruncate = ro_ftruncate,
  .utimens = ro_utimens,
  .setxattr = ro_setxattr,
  .removexattr = ro_removexattr,
};

/* ---- the channel: /dev/fuse, READ answered here ---- */

/* Answers a READ (returns true) from the handle's blob, with no copy; any other request is libfuse's. */
static bool answer_read(int fd, const char *buf, size_t len) {
  struct fuse_in_header in;
  memcpy(&in, buf, sizeof in);
  if (in.opcode != FUSE_READ) return false;
  struct fuse_out_header out = { .error = 0, .unique = in.unique };
  struct iovec iov[2] = { { &out, sizeof out }, { NULL, 0 } };
  struct fuse_read_in arg = { 0 };
  blob_t *held = NULL;
  /* fh, offset, size: the same in every protocol minor version */
  if (len < sizeof in + offsetof(struct fuse_read_in, read_flags)) {
    out.error = -EIO;
  } else {
    memcpy(&arg, buf + sizeof in, offsetof(struct fuse_read_in, read_flags));
    const handle_t *h = (const handle_t *) (uintptr_t) arg.fh; /* hush_open's */
    if (!h) out.error = -EBADF;
    else if (__atomic_load_n(&h->binding->revoked, __ATOMIC_ACQUIRE)) out.error = -EACCES;
    else if (arg.offset < h->blob->len) {
      /* The kernel keeps the file open until this READ is answered (even for a killed reader), but
         the answer itself lets the reader close it: RELEASE may run on another thread while writev
         is still returning. Our own reference keeps the bytes until then (ASan's writev interceptor
         reads the iovec after the call). */
      held = h->blob;
      blob_ref(held);
      size_t n = held->len - (size_t) arg.offset;
      iov[1].iov_base = held->data + arg.offset;
      iov[1].iov_len = n < arg.size ? n : arg.size;
    }
  }
  out.len = (uint32_t) (sizeof out + iov[1].iov_len);
  /* A failure (ENOENT: the request was interrupted; ENODEV: the connection is gone) needs no answer:
     the next read of the device tells the loop. */
  (void) writev(fd, iov, iov[1].iov_len ? 2 : 1);
  if (held) blob_unref(held);
  return true;
}

/* libfuse's fuse_kern_chan_receive, answering READs on the way. */
static int chan_receive(struct fuse_chan **chp, char *buf, size_t size) {
  struct fuse_chan *ch = *chp;
  struct fuse_session *se = fuse_chan_session(ch);
  for (;;) {
    ssize_t res = read(fuse_chan_fd(ch), buf, size);
    int err = errno;
    if (fuse_session_exited(se)) return 0;
    if (res == -1) {
      if (err == ENOENT) continue; /* the request was interrupted: safe to read the next */
      if (err == ENODEV) {         /* unmounted and the connection dropped */
        fuse_session_exit(se);
        return 0;
      }
      return -err;
    }
    if ((size_t) res < sizeof(struct fuse_in_header)) return -EIO;
    if (!answer_read(fuse_chan_fd(ch), buf, (size_t) res)) return (int) res;
  }
}

static int chan_send(struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  if (iov && writev(fuse_chan_fd(ch), iov, (int) count) == -1) return -errno;
  return 0;
}

static void chan_destroy(struct fuse_chan *ch) { close(fuse_chan_fd(ch)); }

static struct fuse_chan_ops chan_ops = { .receive = chan_receive, .send = chan_send, .destroy = chan_destroy };

/* The mount's /dev/fuse in our channel (close-on-exec); NULL on failure (the mount stays). */
static struct fuse_chan *own_channel(struct fuse_chan *kernel_ch, engine_t *e) {
  size_t bufsize = fuse_chan_bufsize(kernel_ch);
  int fd = fcntl(fuse_chan_fd(kernel_ch), F_DUPFD_CLOEXEC, 3);
  fuse_chan_destroy(kernel_ch); /* closes its own descriptor; the connection lives on in fd */
  if (fd < 0) return NULL;
  struct fuse_chan *ch = fuse_chan_new(&chan_ops, fd, bufsize, e);
  if (!ch) close(fd);
  return ch;
}

/* ---- the loop ---- */

static void *loop_thread(void *arg) {
  engine_t *e = arg;
  fuse_loop_mt(e->fuse);
  /* The kernel dropped the connection (detached and last file closed) or the session ended. */
  fuse_destroy(e->fuse); /* destroys the session and its channel: closes /dev/fuse; no unmount */
  e->fuse = NULL;
  /* No request can read any more. A RELEASE racing the teardown of a detached connection may never
   * arrive: zero every blob still held by such a handle now rather than at process exit. */
  engine_zero_live_blobs(e);
  __atomic_store_n(&e->loop_running, 0, __ATOMIC_RELEASE);
  e->events.on_exit(e->events.ctx);
  engine_unref(e);
  return NULL;
}

const char *hl_mount(engine_t *e, const char *mount_point, const char *options, engine_events_t events) {
  const char *bad = NULL;
  struct fuse_chan *ch = NULL;
  struct fuse *fuse = NULL;
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  if (fuse_opt_add_arg(&args, "hush") || fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, options)) {
    bad = "out of memory";
    goto out;
  }
  struct fuse_chan *kernel_ch = fuse_mount(mount_point, &args);
  if (!kernel_ch) {
    bad = "fuse_mount failed";
    goto out;
  }
  if (!(ch = own_channel(kernel_ch, e))) {
    bad = "cannot take over /dev/fuse";
    goto out;
  }
  /* fuse_new may destroy ch when it fails late (as libfuse's own fuse_setup assumes it does not). */
  if (!(fuse = fuse_new(ch, &args, &hush_ops, sizeof hush_ops, e))) {
    bad = "fuse_new failed";
    goto out_chan;
  }
  e->fuse = fuse;
  e->events = events;
  engine_ref(e); /* the loop thread's */
  __atomic_store_n(&e->loop_running, 1, __ATOMIC_RELEASE);
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int err = pthread_create(&thread, &attr, loop_thread, e);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (err != 0) {
    __atomic_store_n(&e->loop_running, 0, __ATOMIC_RELEASE);
    e->fuse = NULL;
    engine_unref(e);
    fuse_destroy(fuse); /* and the channel: closes /dev/fuse */
    bad = "cannot start the loop thread";
    goto out;
  }
  e->mounted = 1;
  goto out;

out_chan:
  fuse_chan_destroy(ch); /* closes /dev/fuse; the caller detaches the mount */
out:
  fuse_opt_free_args(&args);
  return bad;
}
