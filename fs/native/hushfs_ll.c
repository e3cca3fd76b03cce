// See hushfs_ll.h. libfuse2 (2.9.9), not libfuse3: the product links libfuse2 already (hushfs_hl.c),
// one process must not load two libfuses, and the adoption recipe (fuse_kern_chan_new(fd) +
// fuse_lowlevel_new + fuse_session_add_chan, a replayed INIT, FUSE_NOTIFY_RESEND) was tested on 2.9.9.
//
// Inode numbers: the root is 1 (FUSE_ROOT_ID); any other path's is a 64-bit hash of the path (FNV-1a,
// then the splitmix64 finalizer; never 0 or 1), so the number depends on the path alone: the same
// across tree changes, processes and machines. The kernel learns a number from LOOKUP only; the
// table by_ino (hushfs_ids.c) maps it back to its path while the kernel holds it (LOOKUP counts, FORGET uncounts),
// and every operation then looks the path up in the tree under the read lock: the tree stays the one
// truth (a path removed is ENOENT at once, whatever inode the kernel still has). A collision (two
// paths, one hash: odds ~n²/2⁶⁵) is resolved by probing: the later path takes the next salted hash;
// only then does a number depend on the order of lookups. A successor can rebuild the table by
// hashing every path of its tree (same numbers, collisions aside).
//
// File handles: fh is a small integer, a slot of the table `handles` (slot + 1; 0 is none), whose
// handle_t holds the blob and binding references as hushfs_hl.c's does: an fd keeps reading the
// version it opened after a rotation, and its reads fail with EACCES once the binding is revoked.
// Both tables are the engine's (hushfs_ids.c), not libfuse's, so a successor can later be handed
// them (numbers, not pointers).
//
// READ: fuse_reply_buf from the blob's own bytes. In 2.9.9 it only points an iovec at them
// (send_reply → fuse_chan_send → the kernel channel's writev): no copy, no malloc (fuse_reply_iov
// mallocs an iovec array, not the data; fuse_reply_data may copy: neither is used). Splice is off.
//
// Directories are listed without state: an entry's offset is its position (root: its order key, so
// a listing spread over several READDIRs neither skips nor repeats a name the tree keeps meanwhile).
//
// Unmounting is the caller's umount2(MNT_DETACH), as for hushfs_hl.c; nothing here execs.
#define _GNU_SOURCE
#define FUSE_USE_VERSION 26
#include "hushfs_ll.h"
#include "hushfs_ids.h"

#include <fuse_lowlevel.h>
#include <fuse_opt.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Exported by libfuse2 (FUSE_2.4) but declared only in fuse_lowlevel_compat.h: libfuse's own kernel
   channel on an fd, the first step of adopting a connection too. */
struct fuse_chan *fuse_kern_chan_new(int fd);

/* The options fuse_mount leaves (the high-level ones, which this engine applies itself). */
typedef struct {
  int direct_io;
  double entry_timeout, attr_timeout, negative_timeout;
} ll_opts_t;

typedef struct {
  engine_t *e;
  struct fuse_session *se;
  ll_opts_t opts;
  ids_t ids;
} ll_t;

/* ---- operations (libfuse's threads) ---- */

static ll_t *ll_of(fuse_req_t req) { return fuse_req_userdata(req); }

static void fill_stat(const engine_t *e, const entry_t *en, uint64_t ino, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = ino;
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

/* Under the read lock: the entry at path (the root even before the first setTree: `*scratch`). */
static const entry_t *entry_at(const engine_t *e, const char *path, entry_t *scratch) {
  const entry_t *en = e->tree ? map_get(&e->tree->paths, path) : NULL;
  if (!en && strcmp(path, "/") == 0) {
    *scratch = (entry_t) { .kind = K_ROOT, .mode = ROOT_MODE };
    en = scratch;
  }
  return en;
}

/* The stat of ino's entry (ENOENT: no such path now). */
static int stat_of(ll_t *ll, fuse_ino_t ino, struct stat *st, int *kind) {
  char path[PATH_MAX_LEN + 1];
  if (!ids_path(&ll->ids, ino, path)) return ENOENT;
  entry_t root;
  pthread_rwlock_rdlock(&ll->e->lock);
  const entry_t *en = entry_at(ll->e, path, &root);
  if (en) {
    fill_stat(ll->e, en, ino, st);
    if (kind) *kind = en->kind;
  }
  pthread_rwlock_unlock(&ll->e->lock);
  return en ? 0 : ENOENT;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  ll_t *ll = ll_of(req);
  char dir[PATH_MAX_LEN + 1], path[PATH_MAX_LEN + 2];
  struct fuse_entry_param ep = { .entry_timeout = ll->opts.entry_timeout, .attr_timeout = ll->opts.attr_timeout };
  const entry_t *en = NULL;
  entry_t root;
  if (ids_path(&ll->ids, parent, dir) && strlen(name) <= NAME_BYTES_MAX && strlen(dir) <= 1 + NAME_BYTES_MAX) {
    snprintf(path, sizeof path, "%s/%s", parent == FUSE_ROOT_ID ? "" : dir, name);
    pthread_rwlock_rdlock(&ll->e->lock);
    if ((en = entry_at(ll->e, path, &root))) fill_stat(ll->e, en, 0, &ep.attr);
    pthread_rwlock_unlock(&ll->e->lock);
  }
  if (!en) {
    if (ll->opts.negative_timeout > 0) { /* ino 0: a negative entry the kernel caches that long */
      ep.entry_timeout = ll->opts.negative_timeout;
      fuse_reply_entry(req, &ep);
    } else {
      fuse_reply_err(req, ENOENT);
    }
    return;
  }
  if (!(ep.ino = ids_ino_ref(&ll->ids, path))) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  ep.attr.st_ino = ep.ino;
  if (fuse_reply_entry(req, &ep) != 0) ids_forget(&ll->ids, ep.ino, 1); /* the kernel did not take it */
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, unsigned long nlookup) {
  ids_forget(&ll_of(req)->ids, ino, nlookup);
  fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void) fi;
  ll_t *ll = ll_of(req);
  struct stat st;
  int err = stat_of(ll, ino, &st, NULL);
  if (err) fuse_reply_err(req, err);
  else fuse_reply_attr(req, &st, ll->opts.attr_timeout);
}

/* The first index of keys[0..n) whose key is >= key. */
static size_t first_key_at_least(const double *keys, size_t n, double key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Offsets: "." 1, ".." 2, a name 3 + its position (root: its order key; a directory: its index). */
static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void) fi;
  ll_t *ll = ll_of(req);
  char path[PATH_MAX_LEN + 1], child[PATH_MAX_LEN + 2];
  if (size > 128 * 1024) size = 128 * 1024;
  if (!ids_path(&ll->ids, ino, path)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  char *buf = malloc(size ? size : 1);
  if (!buf) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  int err = 0;
  size_t used = 0;
  entry_t root;
  pthread_rwlock_rdlock(&ll->e->lock);
  const entry_t *en = entry_at(ll->e, path, &root);
  if (!en) err = ENOENT;
  else if (en->kind == K_FILE) err = ENOTDIR;
  else {
    bool is_root = en->kind == K_ROOT;
    struct stat st = { .st_ino = ino, .st_mode = S_IFDIR };
    const char *dots[2] = { ".", ".." };
    bool full = false;
    for (off_t i = off; i < 2 && !full; i++) {
      st.st_ino = i == 0 || is_root ? ino : FUSE_ROOT_ID;
      size_t n = fuse_add_direntry(req, buf + used, size - used, dots[i], &st, i + 1);
      if (n > size - used) full = true;
      else used += n;
    }
    size_t start = off <= 2 ? 0 : is_root ? first_key_at_least(en->keys, en->nnames, (double) (off - 2)) : (size_t) (off - 2);
    st.st_mode = is_root ? S_IFDIR : S_IFREG;
    for (size_t i = start; i < en->nnames && !full; i++) {
      snprintf(child, sizeof child, "%s/%s", is_root ? "" : path, en->names[i]);
      st.st_ino = ids_path_ino(child, 0); /* informational (d_ino): the kernel looks the name up */
      off_t next = 3 + (is_root ? (off_t) en->keys[i] : (off_t) i);
      size_t n = fuse_add_direntry(req, buf + used, size - used, en->names[i], &st, next);
      if (n > size - used) full = true;
      else used += n;
    }
  }
  pthread_rwlock_unlock(&ll->e->lock);
  if (err) fuse_reply_err(req, err);
  else fuse_reply_buf(req, buf, used);
  free(buf);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  ll_t *ll = ll_of(req);
  char path[PATH_MAX_LEN + 1];
  handle_t *h = NULL;
  int err = 0;
  entry_t root;
  if (!ids_path(&ll->ids, ino, path)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  pthread_rwlock_rdlock(&ll->e->lock);
  const entry_t *en = entry_at(ll->e, path, &root);
  if (!en) err = ENOENT;
  else if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_APPEND | O_CREAT)) != 0) err = EROFS;
  else if (en->kind != K_FILE) err = EISDIR;
  else if (!(h = malloc(sizeof *h))) err = ENOMEM;
  else {
    blob_ref(en->blob);
    binding_ref(en->binding);
    h->blob = en->blob;
    h->binding = en->binding;
    __atomic_add_fetch(&ll->e->handle_count, 1, __ATOMIC_RELAXED);
  }
  pthread_rwlock_unlock(&ll->e->lock);
  if (!err && !(fi->fh = ids_handle_put(&ll->ids, h))) {
    ids_handle_drop(ll->e, h);
    err = ENOMEM;
  }
  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  fi->direct_io = ll->opts.direct_io;
  fi->keep_cache = 0;
  if (fuse_reply_open(req, fi) != 0) { /* interrupted: no RELEASE will come */
    if ((h = ids_handle_take(&ll->ids, fi->fh))) ids_handle_drop(ll->e, h);
  }
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void) ino;
  ll_t *ll = ll_of(req);
  blob_t *held = NULL;
  int err = ids_read_blob(&ll->ids, fi->fh, &held); /* our own reference: RELEASE may run meanwhile */
  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  size_t n = 0;
  if (off >= 0 && (size_t) off < held->len) {
    n = held->len - (size_t) off;
    if (n > size) n = size;
  }
  /* A failed reply (interrupted; connection gone) needs nothing more: the next read of the device tells the loop. */
  fuse_reply_buf(req, n ? (const char *) held->data + off : NULL, n);
  blob_unref(held);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void) ino;
  ll_t *ll = ll_of(req);
  handle_t *h = ids_handle_take(&ll->ids, fi->fh);
  if (h) ids_handle_drop(ll->e, h);
  fuse_reply_err(req, 0);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  (void) ino;
  engine_t *e = ll_of(req)->e;
  pthread_rwlock_rdlock(&e->lock);
  size_t dirs = e->tree ? e->tree->root_names : 0;
  pthread_rwlock_unlock(&e->lock);
  struct statvfs sv = { .f_bsize = BLOCK, .f_frsize = BLOCK, .f_files = dirs, .f_flag = ST_RDONLY | ST_NOSUID, .f_namemax = NAME_BYTES_MAX };
  fuse_reply_statfs(req, &sv);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
  ll_t *ll = userdata;
  conn->want &= ~FUSE_CAP_SPLICE_READ; /* requests in plain buffers (libfuse's default too) */
  ll->e->events.on_init(ll->e->events.ctx);
}

/* The `ro` mount option makes the kernel refuse these itself; the stubs answer EROFS (not libfuse's
   ENOSYS) for anything that still gets here, as hushfs_hl.c's do. */
#define EROFS_OP(name, ...) static void name(fuse_req_t req, __VA_ARGS__) { fuse_reply_err(req, EROFS); }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
EROFS_OP(ro_setattr, fuse_ino_t i, struct stat *a, int s, struct fuse_file_info *f)
EROFS_OP(ro_mknod, fuse_ino_t p, const char *n, mode_t m, dev_t d)
EROFS_OP(ro_mkdir, fuse_ino_t p, const char *n, mode_t m)
EROFS_OP(ro_name, fuse_ino_t p, const char *n)
EROFS_OP(ro_symlink, const char *l, fuse_ino_t p, const char *n)
EROFS_OP(ro_rename, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn)
EROFS_OP(ro_link, fuse_ino_t i, fuse_ino_t np, const char *nn)
EROFS_OP(ro_write, fuse_ino_t i, const char *b, size_t s, off_t o, struct fuse_file_info *f)
EROFS_OP(ro_create, fuse_ino_t p, const char *n, mode_t m, struct fuse_file_info *f)
EROFS_OP(ro_setxattr, fuse_ino_t i, const char *n, const char *v, size_t s, int f)
EROFS_OP(ro_removexattr, fuse_ino_t i, const char *n)
#pragma GCC diagnostic pop

/* access, flush, fsync, opendir, releasedir, getxattr, listxattr, readlink: libfuse's defaults, as in hushfs_hl.c. */
static const struct fuse_lowlevel_ops ll_ops = {
  .init = ll_init,
  .lookup = ll_lookup,
  .forget = ll_forget,
  .getattr = ll_getattr,
  .readdir = ll_readdir,
  .open = ll_open,
  .read = ll_read,
  .release = ll_release,
  .statfs = ll_statfs,
  .setattr = ro_setattr,
  .mknod = ro_mknod,
  .mkdir = ro_mkdir,
  .unlink = ro_name,
  .rmdir = ro_name,
  .symlink = ro_symlink,
  .rename = ro_rename,
  .link = ro_link,
  .write = ro_write,
  .create = ro_create,
  .setxattr = ro_setxattr,
  .removexattr = ro_removexattr,
};

/* ---- state, loop, mount ---- */

static void ll_free(ll_t *ll) {
  ids_free(&ll->ids, ll->e); /* the loop has ended: no RELEASE will come for a handle still there */
  free(ll);
}

static void *loop_thread(void *arg) {
  ll_t *ll = arg;
  engine_t *e = ll->e;
  fuse_session_loop_mt(ll->se);
  fuse_session_destroy(ll->se); /* and its channel: closes /dev/fuse; no unmount */
  ll_free(ll);
  engine_zero_live_blobs(e); /* as hushfs_hl.c: nothing can read any more */
  __atomic_store_n(&e->loop_running, 0, __ATOMIC_RELEASE);
  e->events.on_exit(e->events.ctx);
  engine_unref(e);
  return NULL;
}

enum { KEY_OTHER };
static const struct fuse_opt ll_opt_spec[] = {
  { "direct_io", offsetof(ll_opts_t, direct_io), 1 },
  { "entry_timeout=%lf", offsetof(ll_opts_t, entry_timeout), 0 },
  { "attr_timeout=%lf", offsetof(ll_opts_t, attr_timeout), 0 },
  { "negative_timeout=%lf", offsetof(ll_opts_t, negative_timeout), 0 },
  FUSE_OPT_END,
};

/* Any other option fuse_mount left: refused (it would silently not apply). */
static int ll_opt_proc(void *data, const char *arg, int key, struct fuse_args *out) {
  (void) data;
  (void) arg;
  (void) out;
  return key == FUSE_OPT_KEY_NONOPT ? 1 : -1;
}

static ll_t *ll_new(engine_t *e) {
  ll_t *ll = calloc(1, sizeof *ll);
  if (!ll) return NULL;
  ll->e = e;
  if (ids_init(&ll->ids) != 0) {
    free(ll);
    return NULL;
  }
  return ll;
}

const char *ll_mount(engine_t *e, const char *mount_point, const char *options, engine_events_t events) {
  const char *bad = NULL;
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  struct fuse_args no_args = FUSE_ARGS_INIT(0, NULL);
  ll_t *ll = NULL;
  int fd = -1;
  if (fuse_opt_add_arg(&args, "hush") || fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, options) || fuse_opt_add_arg(&no_args, "hush") || !(ll = ll_new(e))) {
    bad = "out of memory";
    goto out;
  }
  struct fuse_chan *kernel_ch = fuse_mount(mount_point, &args); /* takes the kernel's options out of args */
  if (!kernel_ch) {
    bad = "fuse_mount failed";
    goto out;
  }
  fd = fcntl(fuse_chan_fd(kernel_ch), F_DUPFD_CLOEXEC, 3);
  fuse_chan_destroy(kernel_ch); /* closes its own descriptor; the connection lives on in fd */
  if (fd < 0) {
    bad = "cannot take over /dev/fuse";
    goto out;
  }
  if (fuse_opt_parse(&args, &ll->opts, ll_opt_spec, ll_opt_proc) != 0) {
    bad = "an option neither fuse_mount nor this engine knows";
    goto out;
  }
  /* What a successor adopting fd would do: libfuse's kernel channel on it, a session, the channel in it. */
  struct fuse_chan *ch = fuse_kern_chan_new(fd);
  if (!ch) {
    bad = "out of memory";
    goto out;
  }
  fd = -1; /* the channel's */
  if (!(ll->se = fuse_lowlevel_new(&no_args, &ll_ops, sizeof ll_ops, ll))) {
    fuse_chan_destroy(ch);
    bad = "fuse_lowlevel_new failed";
    goto out;
  }
  fuse_session_add_chan(ll->se, ch);
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
  int err = pthread_create(&thread, &attr, loop_thread, ll);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (err != 0) {
    __atomic_store_n(&e->loop_running, 0, __ATOMIC_RELEASE);
    engine_unref(e);
    fuse_session_destroy(ll->se); /* and the channel: closes /dev/fuse */
    bad = "cannot start the loop thread";
    goto out;
  }
  ll = NULL; /* the loop thread's */
  e->mounted = 1;

out:
  if (fd >= 0) close(fd);
  if (ll) ll_free(ll);
  fuse_opt_free_args(&args);
  fuse_opt_free_args(&no_args);
  return bad;
}
