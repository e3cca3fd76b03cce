// hush's native FUSE engine (the default engine, loaded by fs/native-engine.ts): the same
// read-only view as fs/ops.ts, served directly on libfuse's threads from a table in C memory that
// the JS thread updates. No FUSE request ever waits for the JS thread.
//
// libfuse2 high-level API (FUSE_USE_VERSION 26), fuse_mount + fuse_new + fuse_loop_mt on a pthread
// started here, with the options fs/native-engine.ts passes (the same as fs/mount.ts's).
//
// State, per engine:
//  - BLOB: one secret version's bytes (refcounted; malloc'ed, mlock'ed when possible, zeroed before
//    free). The registry id → blob (`${secretId}@${version}`) holds one reference, every tree entry
//    and every open handle one more.
//  - BINDING: (task incarnation, target, secret id) → { revoked } (refcounted). A handle captures the
//    binding and the blob of the path it opened: reads fail with EACCES once the binding is revoked
//    (the reference is gone), and otherwise return the captured blob (an old fd keeps reading the
//    version it opened after a rotation).
//  - TREE: path → entry (root, task dirs, files incl. service aliases), replaced as a whole by
//    setTree, or changed in place by updateTree (only the directories a change touched), under the
//    write lock; getattr/readdir/open/statfs read it under the read lock.
// Only the JS thread writes (putBlob, dropBlob, setTree, updateTree): the registries are JS-thread-only
// and need no lock; the tree swap or in-place change and the revocation of bindings happen in one step
// under the write lock, so once setTree/updateTree returns no FUSE request sees the old tree and every
// read on a revoked binding fails. updateTree prepares everything that can fail before it takes the
// lock, and frees what it unlinked after it.
//
// Unmounting is the caller's umount2(MNT_DETACH) (fs/native/umount.c): the loop keeps serving
// files that stay open, ends by itself when the kernel drops the connection, and then destroys its
// fuse/session/channel (closing /dev/fuse) without calling fuse_unmount (which may exec).
// Nothing here ever execs; libfuse's own mount with auto_unmount starts its fusermount helper, as
// it does under fuse-native.
#define _GNU_SOURCE
#define FUSE_USE_VERSION 26
#define NAPI_VERSION 8
#include <node_api.h>
#include <fuse.h>
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define BLOCK 4096
// The root: listable by root only; any uid may traverse it to a task directory whose name it knows
// (whose own mode then decides). The same as fs/ops.ts's ROOT_MODE.
#define ROOT_MODE 0711

/* ---- a small string-keyed hash map (chained) ---- */

typedef struct node {
  struct node *next;
  uint64_t hash;
  char *key;
  void *val;
} node_t;

typedef struct {
  node_t **buckets;
  size_t nbuckets; /* power of two */
  size_t count;
} map_t;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) {
    h ^= (unsigned char) *s;
    h *= 1099511628211ULL;
  }
  return h;
}

static int map_init(map_t *m, size_t hint) {
  size_t n = 16;
  while (n < hint * 2) n <<= 1;
  m->buckets = calloc(n, sizeof *m->buckets);
  m->nbuckets = n;
  m->count = 0;
  return m->buckets ? 0 : -1;
}

static node_t *map_find(const map_t *m, const char *key) {
  uint64_t h = hash_str(key);
  for (node_t *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0) return e;
  return NULL;
}

static void *map_get(const map_t *m, const char *key) {
  node_t *e = map_find(m, key);
  return e ? e->val : NULL;
}

static void map_grow(map_t *m) {
  size_t n = m->nbuckets * 2;
  node_t **b = calloc(n, sizeof *b);
  if (!b) return; /* keep the longer chains */
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t *e = m->buckets[i];
    while (e) {
      node_t *next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = n;
}

/* A node for key (copied) → val, not in any map yet; NULL when out of memory. */
static node_t *node_new(const char *key, void *val) {
  node_t *e = malloc(sizeof *e);
  if (!e) return NULL;
  e->key = strdup(key);
  if (!e->key) {
    free(e);
    return NULL;
  }
  e->hash = hash_str(key);
  e->val = val;
  e->next = NULL;
  return e;
}

/* Frees a node that is in no map (and calls fn on its value). */
static void node_free(node_t *e, void (*fn)(void *)) {
  if (fn) fn(e->val);
  free(e->key);
  free(e);
}

/* Links a node whose key is not present. Never fails (a failed grow keeps the longer chains). */
static void map_link(map_t *m, node_t *e) {
  if (m->count + 1 > m->nbuckets) map_grow(m);
  size_t i = e->hash & (m->nbuckets - 1);
  e->next = m->buckets[i];
  m->buckets[i] = e;
  m->count++;
}

/* Inserts key (copied) → val; the key must not be present. */
static int map_put(map_t *m, const char *key, void *val) {
  node_t *e = node_new(key, val);
  if (!e) return -1;
  map_link(m, e);
  return 0;
}

/* Unlinks key's node and returns it (NULL if absent); the caller frees it. */
static node_t *map_unlink(map_t *m, const char *key) {
  uint64_t h = hash_str(key);
  node_t **p = &m->buckets[h & (m->nbuckets - 1)];
  for (; *p; p = &(*p)->next) {
    node_t *e = *p;
    if (e->hash == h && strcmp(e->key, key) == 0) {
      *p = e->next;
      m->count--;
      return e;
    }
  }
  return NULL;
}

/* Removes key; returns its value (NULL if absent). */
static void *map_remove(map_t *m, const char *key) {
  node_t *e = map_unlink(m, key);
  if (!e) return NULL;
  void *val = e->val;
  node_free(e, NULL);
  return val;
}

/* Frees every node (and calls fn on each value). */
static void map_clear(map_t *m, void (*fn)(void *)) {
  if (!m->buckets) return;
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t *e = m->buckets[i];
    while (e) {
      node_t *next = e->next;
      if (fn) fn(e->val);
      free(e->key);
      free(e);
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = NULL;
  m->nbuckets = 0;
  m->count = 0;
}

/* ---- engine state ---- */

struct engine;

typedef struct blob {
  int refs;
  size_t len;
  unsigned char *data;
  struct engine *owner;
  struct blob *prev, *next; /* the owner's list of live blobs */
} blob_t;

typedef struct binding {
  int refs;
  int revoked;
} binding_t;

enum { K_ROOT = 1, K_DIR = 2, K_FILE = 3 };

typedef struct entry {
  int kind;
  mode_t mode; /* permission bits only */
  uid_t uid;
  gid_t gid;
  struct timespec mtime;
  blob_t *blob;       /* K_FILE */
  binding_t *binding; /* K_FILE */
  char **names;       /* K_ROOT, K_DIR: the entries after "." and "..", in order */
  double *keys;       /* K_ROOT: each name's order key (increasing), by which updateTree places names */
  size_t nnames;
} entry_t;

typedef struct tree {
  map_t paths; /* path → entry_t* */
  size_t root_names;
} tree_t;

typedef struct handle {
  binding_t *binding;
  blob_t *blob;
} handle_t;

typedef struct engine {
  int refs; /* the JS object's + the loop thread's */
  pthread_rwlock_t lock;
  tree_t *tree; /* under lock */
  struct timespec root_time;
  /* JS thread only */
  map_t blobs;    /* id → blob_t* (one reference each) */
  map_t bindings; /* key → binding_t* (one reference each): the live bindings */
  /* blob bookkeeping (any thread) */
  pthread_mutex_t blob_mutex;
  blob_t *live_blobs;
  long blob_count;
  long handle_count; /* atomic */
  /* FUSE */
  struct fuse *fuse;
  struct fuse_chan *ch;
  int mounted;
  int loop_running; /* atomic */
  napi_threadsafe_function tsfn;
} engine_t;

static void engine_unref(engine_t *e);

static void blob_unref(blob_t *b) {
  if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  engine_t *e = b->owner;
  pthread_mutex_lock(&e->blob_mutex);
  if (b->prev) b->prev->next = b->next;
  else e->live_blobs = b->next;
  if (b->next) b->next->prev = b->prev;
  e->blob_count--;
  pthread_mutex_unlock(&e->blob_mutex);
  if (b->data) {
    explicit_bzero(b->data, b->len);
    /* No munlock: the locked pages may hold other blobs too (mlock does not count). */
    free(b->data);
  }
  free(b);
}

static void blob_ref(blob_t *b) { __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED); }

static void binding_ref(binding_t *b) { __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED); }

static void binding_unref(binding_t *b) {
  if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) free(b);
}

static void binding_unref_void(void *b) { binding_unref(b); }
static void blob_unref_void(void *b) { blob_unref(b); }

static void entry_free(void *p) {
  entry_t *en = p;
  if (en->blob) blob_unref(en->blob);
  if (en->binding) binding_unref(en->binding);
  for (size_t i = 0; i < en->nnames; i++) free(en->names[i]);
  free(en->names);
  free(en->keys);
  free(en);
}

static void tree_free(tree_t *t) {
  if (!t) return;
  map_clear(&t->paths, entry_free);
  free(t);
}

static void engine_free(engine_t *e) {
  tree_free(e->tree);
  map_clear(&e->bindings, binding_unref_void);
  map_clear(&e->blobs, blob_unref_void);
  /* Blobs still referenced by handles that were never released (connection aborted): zero them. */
  pthread_mutex_lock(&e->blob_mutex);
  for (blob_t *b = e->live_blobs; b; b = b->next) explicit_bzero(b->data, b->len);
  bool none_left = e->live_blobs == NULL;
  pthread_mutex_unlock(&e->blob_mutex);
  /* Any left (and their handles) are unreachable now, and point to the engine: left to the process. */
  if (none_left) {
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->blob_mutex);
    free(e);
  }
}

static void engine_unref(engine_t *e) {
  if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) engine_free(e);
}

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
  int res;
  if (!en) {
    res = strcmp(path, "/") == 0 ? 0 : -ENOENT;
    if (res == 0) {
      filler(buf, ".", NULL, 0);
      filler(buf, "..", NULL, 0);
    }
  } else if (en->kind == K_FILE) {
    res = -ENOTDIR;
  } else {
    filler(buf, ".", NULL, 0);
    filler(buf, "..", NULL, 0);
    for (size_t i = 0; i < en->nnames; i++)
      if (filler(buf, en->names[i], NULL, 0) != 0) break;
    res = 0;
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
      fi->fh = (uint64_t) (uintptr_t) h;
      __atomic_add_fetch(&e->handle_count, 1, __ATOMIC_RELAXED);
      res = 0;
    }
  }
  pthread_rwlock_unlock(&e->lock);
  return res;
}

static int hush_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void) path;
  handle_t *h = (handle_t *) (uintptr_t) fi->fh;
  if (!h) return -EBADF;
  if (__atomic_load_n(&h->binding->revoked, __ATOMIC_ACQUIRE)) return -EACCES;
  const blob_t *b = h->blob;
  if (off < 0) return -EINVAL;
  if ((uint64_t) off >= b->len) return 0;
  size_t n = b->len - (size_t) off;
  if (n > size) n = size;
  if (n > INT32_MAX) n = INT32_MAX;
  memcpy(buf, b->data + off, n);
  return (int) n;
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
  sv->f_namemax = 255;
  return 0;
}

static void *hush_init(struct fuse_conn_info *conn);

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

/* The operations of fs/ops.ts; the others (access, flush, fsync, opendir, releasedir, getxattr,
   listxattr, readlink, fgetattr) are left to libfuse's defaults, as under fuse-native. */
static const struct fuse_operations hush_ops = {
  .getattr = hush_getattr,
  .readdir = hush_readdir,
  .open = hush_open,
  .read = hush_read,
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

/* ---- events to JS (threadsafe function): "init", "exit" ---- */

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void) context;
  const char *event = data;
  if (env == NULL || js_cb == NULL) return;
  napi_value undef, arg;
  napi_get_undefined(env, &undef);
  napi_create_string_utf8(env, event, NAPI_AUTO_LENGTH, &arg);
  napi_call_function(env, undef, js_cb, 1, &arg, NULL);
}

static void *hush_init(struct fuse_conn_info *conn) {
  (void) conn;
  engine_t *e = current_engine();
  napi_call_threadsafe_function(e->tsfn, (void *) "init", napi_tsfn_nonblocking);
  return e;
}

static void *loop_thread(void *arg) {
  engine_t *e = arg;
  fuse_loop_mt(e->fuse);
  /* The kernel dropped the connection (detached and last file closed) or the session ended. */
  fuse_destroy(e->fuse); /* destroys the session and its channel: closes /dev/fuse; no unmount */
  e->fuse = NULL;
  e->ch = NULL;
  /* No request can read any more. A RELEASE racing the teardown of a detached connection may never
   * arrive: zero every blob still held by such a handle now rather than at process exit. */
  pthread_mutex_lock(&e->blob_mutex);
  for (blob_t *b = e->live_blobs; b; b = b->next) explicit_bzero(b->data, b->len);
  pthread_mutex_unlock(&e->blob_mutex);
  __atomic_store_n(&e->loop_running, 0, __ATOMIC_RELEASE);
  napi_call_threadsafe_function(e->tsfn, (void *) "exit", napi_tsfn_blocking);
  napi_release_threadsafe_function(e->tsfn, napi_tsfn_release);
  engine_unref(e);
  return NULL;
}

/* ---- N-API ---- */

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static char *get_string(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return NULL;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) { /* embedded NUL */
    free(s);
    return NULL;
  }
  return s;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 4294967295.0) return -1;
  *out = (uint32_t) d;
  return 0;
}

static int get_ms(napi_env env, napi_value v, struct timespec *ts) {
  int64_t ms;
  if (napi_get_value_int64(env, v, &ms) != napi_ok) return -1;
  if (ms < 0) ms = 0;
  ts->tv_sec = (time_t) (ms / 1000);
  ts->tv_nsec = (long) ((ms % 1000) * 1000000);
  return 0;
}

static engine_t *get_engine(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

static void engine_finalize(napi_env env, void *data, void *hint) {
  (void) env;
  (void) hint;
  engine_unref(data);
}

/* create(rootTimeMs) → engine */
static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = calloc(1, sizeof *e);
  if (!e) return throw_msg(env, "hushfs: out of memory");
  if (argc < 1 || get_ms(env, argv[0], &e->root_time) != 0) {
    free(e);
    return throw_msg(env, "hushfs.create(rootTimeMs): a number expected");
  }
  e->refs = 1;
  pthread_rwlock_init(&e->lock, NULL);
  pthread_mutex_init(&e->blob_mutex, NULL);
  if (map_init(&e->blobs, 16) != 0 || map_init(&e->bindings, 16) != 0) return throw_msg(env, "hushfs: out of memory");
  napi_value ext;
  napi_create_external(env, e, engine_finalize, NULL, &ext);
  return ext;
}


/* putBlob(engine, id, buffer): copies the bytes into C memory (replacing a blob of the same id). */
static napi_value js_put_blob(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 3 ? get_engine(env, argv[0]) : NULL;
  bool is_buf = false;
  if (e) napi_is_buffer(env, argv[2], &is_buf);
  if (!e || !is_buf) return throw_msg(env, "hushfs.putBlob(engine, id, buffer): bad arguments");
  char *id = get_string(env, argv[1]);
  if (!id) return throw_msg(env, "hushfs.putBlob: id must be a string without NUL");
  void *src = NULL;
  size_t len = 0;
  napi_get_buffer_info(env, argv[2], &src, &len);
  blob_t *b = calloc(1, sizeof *b);
  unsigned char *data = malloc(len ? len : 1);
  if (!b || !data) {
    free(b);
    free(data);
    free(id);
    return throw_msg(env, "hushfs.putBlob: out of memory");
  }
  memcpy(data, src, len);
  (void) mlock(data, len ? len : 1); /* best effort: keep secrets out of swap */
  b->refs = 1;
  b->len = len;
  b->data = data;
  b->owner = e;
  pthread_mutex_lock(&e->blob_mutex);
  b->next = e->live_blobs;
  if (b->next) b->next->prev = b;
  e->live_blobs = b;
  e->blob_count++;
  pthread_mutex_unlock(&e->blob_mutex);
  blob_t *old = map_remove(&e->blobs, id);
  if (map_put(&e->blobs, id, b) != 0) {
    free(id);
    blob_unref(b);
    if (old) blob_unref(old);
    return throw_msg(env, "hushfs.putBlob: out of memory");
  }
  free(id);
  if (old) blob_unref(old); /* entries and handles keep their own references */
  return NULL;
}

/* dropBlob(engine, id): forgets the id; the bytes are zeroed and freed with their last reference. */
static napi_value js_drop_blob(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 2 ? get_engine(env, argv[0]) : NULL;
  char *id = e ? get_string(env, argv[1]) : NULL;
  if (!id) return throw_msg(env, "hushfs.dropBlob(engine, id): bad arguments");
  blob_t *b = map_remove(&e->blobs, id);
  free(id);
  if (b) blob_unref(b);
  return NULL;
}

static int get_array(napi_env env, napi_value v, uint32_t *len) {
  bool is_array = false;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array) return -1;
  return napi_get_array_length(env, v, len) == napi_ok ? 0 : -1;
}

/* Reads a string[] into a malloc'ed array of strings. */
static int get_names(napi_env env, napi_value v, char ***out, size_t *n) {
  uint32_t len;
  if (get_array(env, v, &len) != 0) return -1;
  char **names = calloc(len ? len : 1, sizeof *names);
  if (!names) return -1;
  for (uint32_t i = 0; i < len; i++) {
    napi_value el;
    napi_get_element(env, v, i, &el);
    names[i] = get_string(env, el);
    if (!names[i]) {
      for (uint32_t j = 0; j < i; j++) free(names[j]);
      free(names);
      return -1;
    }
  }
  *out = names;
  *n = len;
  return 0;
}

static napi_value element(napi_env env, napi_value arr, uint32_t i) {
  napi_value v;
  napi_get_element(env, arr, i, &v);
  return v;
}

/* ---- tree rows: setTree and updateTree ---- */

/* A growable array of pointers. */
typedef struct {
  void **v;
  size_t n, cap;
} vec_t;

static int vec_reserve(vec_t *a, size_t cap) {
  if (cap <= a->cap) return 0;
  void **v = realloc(a->v, cap * sizeof *v);
  if (!v) return -1;
  a->v = v;
  a->cap = cap;
  return 0;
}

static int vec_push(vec_t *a, void *p) {
  if (a->n == a->cap && vec_reserve(a, a->cap ? a->cap * 2 : 16) != 0) return -1;
  a->v[a->n++] = p;
  return 0;
}

/* Frees the array, and each element with fn when given. */
static void vec_free(vec_t *a, void (*fn)(void *)) {
  if (fn)
    for (size_t i = 0; i < a->n; i++) fn(a->v[i]);
  free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

static void entry_node_free(void *n) { node_free(n, entry_free); }

/* A root order key: an integer a double holds exactly (this also refuses NaN). */
static int get_key(napi_env env, napi_value v, double *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 9007199254740992.0)) return -1;
  *out = d;
  return 0;
}

typedef struct {
  double key;
  char *name;
} root_item_t;

/* Reads [key, name]; returns an error message or NULL. */
static const char *read_root_item(napi_env env, napi_value v, root_item_t *out) {
  uint32_t len;
  if (get_array(env, v, &len) != 0 || len != 2 || get_key(env, element(env, v, 0), &out->key) != 0) return "a root entry must be [key, name]";
  out->name = get_string(env, element(env, v, 1));
  return out->name ? NULL : "a root entry must be [key, name]";
}

static int cmp_root_item(const void *a, const void *b) {
  double x = ((const root_item_t *) a)->key, y = ((const root_item_t *) b)->key;
  return x < y ? -1 : x > y;
}

/* Reads the root listing [key, name][] (keys increasing) into the root entry. */
static const char *read_root(napi_env env, napi_value v, entry_t *root) {
  uint32_t len;
  if (get_array(env, v, &len) != 0) return "root must be [key, name][]";
  root->names = calloc(len ? len : 1, sizeof *root->names);
  root->keys = calloc(len ? len : 1, sizeof *root->keys);
  if (!root->names || !root->keys) return "out of memory";
  for (uint32_t i = 0; i < len; i++) {
    root_item_t item;
    const char *bad = read_root_item(env, element(env, v, i), &item);
    if (bad) return bad;
    root->names[i] = item.name;
    root->keys[i] = item.key;
    root->nnames = i + 1;
    if (i > 0 && !(root->keys[i - 1] < item.key)) return "root keys must increase";
  }
  return NULL;
}

/* Reads a dir row [path, uid, gid, mode, mtimeMs, names]; returns an error message or NULL. */
static const char *read_dir_row(napi_env env, napi_value d, char **path, entry_t **out) {
  uint32_t len, uid, gid, mode;
  if (get_array(env, d, &len) != 0 || len != 6) return "a dir must be [path, uid, gid, mode, mtimeMs, names]";
  char *p = get_string(env, element(env, d, 0));
  entry_t *en = calloc(1, sizeof *en);
  if (!p || !en || get_u32(env, element(env, d, 1), &uid) || get_u32(env, element(env, d, 2), &gid) ||
      get_u32(env, element(env, d, 3), &mode) || get_ms(env, element(env, d, 4), &en->mtime) ||
      get_names(env, element(env, d, 5), &en->names, &en->nnames)) {
    free(p);
    free(en);
    return "bad dir entry";
  }
  en->kind = K_DIR;
  en->uid = uid;
  en->gid = gid;
  en->mode = mode & 0777;
  *path = p;
  *out = en;
  return NULL;
}

typedef struct {
  char *path, *binding, *blob;
  uint32_t uid, gid, mode;
  struct timespec mtime;
} file_row_t;

static void file_row_free(file_row_t *r) {
  free(r->path);
  free(r->binding);
  free(r->blob);
}

/* Reads a file row [path, uid, gid, mode, mtimeMs, bindingKey, blobId]; returns an error message or NULL. */
static const char *read_file_row(napi_env env, napi_value f, file_row_t *r) {
  uint32_t len;
  memset(r, 0, sizeof *r);
  if (get_array(env, f, &len) != 0 || len != 7) return "a file must be [path, uid, gid, mode, mtimeMs, bindingKey, blobId]";
  r->path = get_string(env, element(env, f, 0));
  r->binding = get_string(env, element(env, f, 5));
  r->blob = get_string(env, element(env, f, 6));
  if (!r->path || !r->binding || !r->blob || get_u32(env, element(env, f, 1), &r->uid) || get_u32(env, element(env, f, 2), &r->gid) ||
      get_u32(env, element(env, f, 3), &r->mode) || get_ms(env, element(env, f, 4), &r->mtime)) {
    file_row_free(r);
    return "bad file entry";
  }
  return NULL;
}

/* The file entry of a row, holding its blob and its binding (registered now if new); NULL when out of memory. */
static entry_t *file_entry(engine_t *e, const file_row_t *r, blob_t *b) {
  binding_t *bd = map_get(&e->bindings, r->binding);
  if (!bd) {
    bd = calloc(1, sizeof *bd);
    if (!bd) return NULL;
    bd->refs = 1;
    if (map_put(&e->bindings, r->binding, bd) != 0) {
      free(bd);
      return NULL;
    }
  }
  entry_t *en = calloc(1, sizeof *en);
  if (!en) return NULL;
  en->kind = K_FILE;
  en->uid = r->uid;
  en->gid = r->gid;
  en->mode = r->mode & 0777;
  en->mtime = r->mtime;
  blob_ref(b);
  binding_ref(bd);
  en->blob = b;
  en->binding = bd;
  return en;
}

/*
 * setTree(engine, root, dirs, files, liveBindings): replaces the served tree at once.
 *   root:  [key, name][], keys increasing: the root listing, in order (updateTree places names by key)
 *   dirs:  [path, uid, gid, mode, mtimeMs, names[]][]
 *   files: [path, uid, gid, mode, mtimeMs, bindingKey, blobId][]  (size = the blob's length)
 *   liveBindings: every binding key still alive (a reference of a task incarnation), shown or not.
 * Every binding not alive any more is revoked (its handles' next reads fail) under the same write
 * lock as the swap. A file whose blob id is unknown is left out (and counted in the return value).
 */
static napi_value js_set_tree(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 5 ? get_engine(env, argv[0]) : NULL;
  uint32_t ndirs, nfiles, nlive;
  if (!e || get_array(env, argv[2], &ndirs) != 0 || get_array(env, argv[3], &nfiles) != 0 || get_array(env, argv[4], &nlive) != 0)
    return throw_msg(env, "hushfs.setTree(engine, root, dirs, files, liveBindings): bad arguments");

  tree_t *t = calloc(1, sizeof *t);
  if (!t || map_init(&t->paths, ndirs + nfiles + 1) != 0) {
    free(t);
    return throw_msg(env, "hushfs.setTree: out of memory");
  }
  const char *bad = NULL;
  uint32_t missing = 0;
  map_t live = { 0 };
  char *path = NULL, *key = NULL;

  entry_t *root = calloc(1, sizeof *root);
  if (!root) { bad = "out of memory"; goto fail; }
  root->kind = K_ROOT;
  root->mode = ROOT_MODE;
  root->mtime = e->root_time;
  if ((bad = read_root(env, argv[1], root)) != NULL) { entry_free(root); goto fail; }
  if (map_put(&t->paths, "/", root) != 0) { entry_free(root); bad = "out of memory"; goto fail; }
  t->root_names = root->nnames;

  for (uint32_t i = 0; i < ndirs; i++) {
    entry_t *en;
    if ((bad = read_dir_row(env, element(env, argv[2], i), &path, &en)) != NULL) goto fail;
    if (map_get(&t->paths, path) || map_put(&t->paths, path, en) != 0) entry_free(en); /* first wins */
    free(path);
    path = NULL;
  }

  if (map_init(&live, nlive + nfiles) != 0) { bad = "out of memory"; goto fail; }
  for (uint32_t i = 0; i < nlive; i++) {
    key = get_string(env, element(env, argv[4], i));
    if (!key) { bad = "liveBindings must be strings"; goto fail; }
    if (!map_get(&live, key) && map_put(&live, key, (void *) 1) != 0) { bad = "out of memory"; goto fail; }
    free(key);
    key = NULL;
  }

  for (uint32_t i = 0; i < nfiles; i++) {
    file_row_t r;
    if ((bad = read_file_row(env, element(env, argv[3], i), &r)) != NULL) goto fail;
    blob_t *b = map_get(&e->blobs, r.blob);
    if (!b) missing++;
    else if (!map_get(&t->paths, r.path)) {
      entry_t *en = file_entry(e, &r, b);
      if (!en) bad = "out of memory";
      else if ((!map_get(&live, r.binding) && map_put(&live, r.binding, (void *) 1) != 0) || map_put(&t->paths, r.path, en) != 0) {
        entry_free(en);
        bad = "out of memory";
      }
    }
    file_row_free(&r);
    if (bad) goto fail;
  }

  /* The bindings to revoke: every registered one that is not alive any more. */
  size_t nstale = 0;
  char **stale = calloc(e->bindings.count ? e->bindings.count : 1, sizeof *stale);
  if (!stale) { bad = "out of memory"; goto fail; }
  for (size_t i = 0; i < e->bindings.nbuckets; i++)
    for (node_t *n = e->bindings.buckets[i]; n; n = n->next)
      if (!map_get(&live, n->key)) stale[nstale++] = n->key;

  pthread_rwlock_wrlock(&e->lock);
  tree_t *old = e->tree;
  e->tree = t;
  for (size_t i = 0; i < nstale; i++) {
    binding_t *bd = map_get(&e->bindings, stale[i]);
    __atomic_store_n(&bd->revoked, 1, __ATOMIC_RELEASE);
  }
  pthread_rwlock_unlock(&e->lock);

  for (size_t i = 0; i < nstale; i++) {
    char *k = strdup(stale[i]);
    binding_t *bd = k ? map_remove(&e->bindings, k) : NULL;
    free(k);
    if (bd) binding_unref(bd);
  }
  free(stale);
  map_clear(&live, NULL);
  tree_free(old);
  napi_value result;
  napi_create_uint32(env, missing, &result);
  return result;

fail:
  free(path);
  free(key);
  map_clear(&live, NULL);
  tree_free(t);
  {
    char msg[160];
    snprintf(msg, sizeof msg, "hushfs.setTree: %s", bad ? bad : "failed");
    return throw_msg(env, msg);
  }
}

/*
 * An updateTree prepared off the lock: every allocation that can fail happens while preparing, so
 * that the change is applied whole, in one step under the write lock, or not at all.
 */
typedef struct {
  vec_t drops;   /* char*: paths to unlink (each removed directory and its files) */
  vec_t adds;    /* node_t*: new entries (path → entry_t*), each replacing the entry at its path */
  vec_t revoke;  /* char*: keys of registered bindings to revoke */
  vec_t garbage; /* node_t*: unlinked under the lock, freed after it (capacity reserved beforehand) */
  map_t seen;    /* the paths of adds: a path given twice keeps its first row */
  /* The new root listing (NULL: unchanged); it reuses the old entries' names, except those gone. */
  char **root_names;
  double *root_keys;
  size_t root_n;
  bool *root_gone; /* per old root entry: removed (its name is freed after the swap) */
} update_t;

static void update_free(update_t *u) {
  vec_free(&u->drops, free);
  vec_free(&u->adds, entry_node_free);
  vec_free(&u->revoke, free);
  vec_free(&u->garbage, entry_node_free);
  map_clear(&u->seen, NULL);
}

/* Queues the directory at `path` (if it is one) and its files for removal. */
static int drop_dir(const tree_t *t, const char *path, update_t *u) {
  const entry_t *en = map_get(&t->paths, path);
  if (!en || en->kind != K_DIR) return 0;
  char *p = strdup(path);
  if (!p || vec_push(&u->drops, p) != 0) { free(p); return -1; }
  size_t plen = strlen(path);
  for (size_t i = 0; i < en->nnames; i++) {
    size_t len = plen + 1 + strlen(en->names[i]) + 1;
    char *file = malloc(len);
    if (!file) return -1;
    snprintf(file, len, "%s/%s", path, en->names[i]);
    if (vec_push(&u->drops, file) != 0) { free(file); return -1; }
  }
  return 0;
}

/* Queues a new entry at `path` (not the root) unless a row already gave that path; frees `en` when not queued. */
static const char *add_entry(update_t *u, const char *path, entry_t *en) {
  if (strcmp(path, "/") == 0) { entry_free(en); return "the root is not a row"; }
  if (map_get(&u->seen, path)) { entry_free(en); return NULL; }
  node_t *n = node_new(path, en);
  if (!n) { entry_free(en); return "out of memory"; }
  if (map_put(&u->seen, path, (void *) 1) != 0 || vec_push(&u->adds, n) != 0) { node_free(n, entry_free); return "out of memory"; }
  return NULL;
}

/* The index of the first old key >= key. */
static size_t key_index(const double *keys, size_t n, double key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Merges the root's listing without the removed keys with the added [key, name]s, in key order. */
static const char *prepare_root(napi_env env, const entry_t *root, napi_value removed, napi_value added, update_t *u) {
  uint32_t nrem, nadd;
  get_array(env, removed, &nrem);
  get_array(env, added, &nadd);
  size_t old_n = root->nnames, nitems = 0;
  root_item_t *items = calloc(nadd ? nadd : 1, sizeof *items);
  bool *gone = calloc(old_n ? old_n : 1, sizeof *gone);
  char **names = NULL;
  double *keys = NULL;
  const char *bad = NULL;
  if (!items || !gone) { bad = "out of memory"; goto out; }
  for (uint32_t i = 0; i < nrem; i++) {
    double key;
    if (get_key(env, element(env, removed, i), &key) != 0) { bad = "rootRemoved must be keys"; goto out; }
    size_t at = key_index(root->keys, old_n, key);
    if (at == old_n || root->keys[at] != key || gone[at]) { bad = "rootRemoved: no such root entry"; goto out; }
    gone[at] = true;
  }
  for (uint32_t i = 0; i < nadd; i++) {
    if ((bad = read_root_item(env, element(env, added, i), &items[i])) != NULL) goto out;
    nitems = i + 1;
  }
  qsort(items, nitems, sizeof *items, cmp_root_item);
  for (size_t i = 1; i < nitems; i++)
    if (items[i].key == items[i - 1].key) { bad = "rootAdded: a key twice"; goto out; }
  size_t n = old_n - nrem + nitems;
  names = calloc(n ? n : 1, sizeof *names);
  keys = calloc(n ? n : 1, sizeof *keys);
  if (!names || !keys) { bad = "out of memory"; goto out; }
  size_t i = 0, j = 0, k = 0;
  while (i < old_n || j < nitems) {
    if (i < old_n && gone[i]) { i++; continue; }
    if (i < old_n && j < nitems && root->keys[i] == items[j].key) { bad = "rootAdded: a key already present"; goto out; }
    if (j == nitems || (i < old_n && root->keys[i] < items[j].key)) {
      names[k] = root->names[i];
      keys[k++] = root->keys[i++];
    } else {
      names[k] = items[j].name;
      keys[k++] = items[j++].key;
    }
  }
  u->root_names = names;
  u->root_keys = keys;
  u->root_n = n;
  u->root_gone = gone;
  free(items); /* their names are in `names` now */
  return NULL;

out:
  for (size_t x = 0; x < nitems; x++) free(items[x].name);
  free(items);
  free(gone);
  free(names);
  free(keys);
  return bad;
}

/* Reads updateTree's arguments into u: the drops, the new entries, the bindings to revoke, the new root. */
static const char *prepare_update(napi_env env, engine_t *e, napi_value *argv, update_t *u, uint32_t *missing) {
  const tree_t *t = e->tree;
  uint32_t ndirpaths, ndirs, nfiles, nrevoked, nrem, nadd;
  get_array(env, argv[1], &nrem);
  get_array(env, argv[2], &nadd);
  get_array(env, argv[3], &ndirpaths);
  get_array(env, argv[4], &ndirs);
  get_array(env, argv[5], &nfiles);
  get_array(env, argv[6], &nrevoked);
  const char *bad = NULL;
  for (uint32_t i = 0; i < ndirpaths; i++) {
    char *path = get_string(env, element(env, argv[3], i));
    if (!path) return "dirPaths must be strings";
    int err = drop_dir(t, path, u);
    free(path);
    if (err != 0) return "out of memory";
  }
  if (map_init(&u->seen, ndirs + nfiles) != 0) return "out of memory";
  for (uint32_t i = 0; i < ndirs; i++) {
    char *path;
    entry_t *en;
    if ((bad = read_dir_row(env, element(env, argv[4], i), &path, &en)) != NULL) return bad;
    bad = add_entry(u, path, en);
    free(path);
    if (bad) return bad;
  }
  for (uint32_t i = 0; i < nfiles; i++) {
    file_row_t r;
    if ((bad = read_file_row(env, element(env, argv[5], i), &r)) != NULL) return bad;
    blob_t *b = map_get(&e->blobs, r.blob);
    if (!b) (*missing)++;
    else if (!map_get(&u->seen, r.path)) {
      entry_t *en = file_entry(e, &r, b);
      bad = en ? add_entry(u, r.path, en) : "out of memory";
    }
    file_row_free(&r);
    if (bad) return bad;
  }
  for (uint32_t i = 0; i < nrevoked; i++) {
    char *key = get_string(env, element(env, argv[6], i));
    if (!key) return "revokedBindings must be strings";
    if (!map_get(&e->bindings, key)) free(key); /* never served: nothing to revoke */
    else if (vec_push(&u->revoke, key) != 0) { free(key); return "out of memory"; }
  }
  if (vec_reserve(&u->garbage, u->drops.n + u->adds.n) != 0) return "out of memory";
  /* Last: nothing may fail once the new root listing holds the old names. */
  if (nrem + nadd > 0) return prepare_root(env, map_get(&t->paths, "/"), argv[1], argv[2], u);
  return NULL;
}

/*
 * updateTree(engine, rootRemoved, rootAdded, dirPaths, dirs, files, revokedBindings): changes the
 * served tree in place, in one step under the write lock (after setTree):
 *   rootRemoved: order keys of root entries to remove; rootAdded: [key, name][] to insert by key;
 *   dirPaths: directories to remove, with their files (list every directory a dir row replaces);
 *   dirs, files: rows as for setTree, put in (an entry still at a row's path is replaced);
 *   revokedBindings: bindings whose handles' next reads fail from now on (unknown keys: none).
 * Returns the number of files left out because their blob id is unknown (0 normally).
 */
static napi_value js_update_tree(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 7 ? get_engine(env, argv[0]) : NULL;
  uint32_t len;
  bool ok = e != NULL;
  for (size_t i = 1; ok && i < 7; i++) ok = get_array(env, argv[i], &len) == 0;
  if (!ok) return throw_msg(env, "hushfs.updateTree(engine, rootRemoved, rootAdded, dirPaths, dirs, files, revokedBindings): bad arguments");
  if (!e->tree) return throw_msg(env, "hushfs.updateTree: no tree yet (setTree first)");

  update_t u = { 0 };
  uint32_t missing = 0;
  const char *bad = prepare_update(env, e, argv, &u, &missing);
  if (bad) {
    update_free(&u);
    char msg[160];
    snprintf(msg, sizeof msg, "hushfs.updateTree: %s", bad);
    return throw_msg(env, msg);
  }

  tree_t *t = e->tree;
  entry_t *root = map_get(&t->paths, "/");
  char **old_names = root->names;
  double *old_keys = root->keys;
  size_t old_n = root->nnames;
  pthread_rwlock_wrlock(&e->lock);
  for (size_t i = 0; i < u.drops.n; i++) {
    node_t *n = map_unlink(&t->paths, u.drops.v[i]);
    if (n) u.garbage.v[u.garbage.n++] = n;
  }
  for (size_t i = 0; i < u.adds.n; i++) {
    node_t *n = u.adds.v[i];
    node_t *old = map_unlink(&t->paths, n->key);
    if (old) u.garbage.v[u.garbage.n++] = old;
    map_link(&t->paths, n);
  }
  u.adds.n = 0; /* the tree owns them now */
  if (u.root_names) {
    root->names = u.root_names;
    root->keys = u.root_keys;
    root->nnames = u.root_n;
    t->root_names = u.root_n;
  }
  for (size_t i = 0; i < u.revoke.n; i++) {
    binding_t *bd = map_get(&e->bindings, u.revoke.v[i]);
    __atomic_store_n(&bd->revoked, 1, __ATOMIC_RELEASE);
  }
  pthread_rwlock_unlock(&e->lock);

  /* No request can reach what was unlinked or replaced any more: free it (handles hold their own references). */
  if (u.root_names) {
    for (size_t i = 0; i < old_n; i++)
      if (u.root_gone[i]) free(old_names[i]);
    free(old_names);
    free(old_keys);
    free(u.root_gone);
  }
  for (size_t i = 0; i < u.revoke.n; i++) {
    binding_t *bd = map_remove(&e->bindings, u.revoke.v[i]);
    if (bd) binding_unref(bd);
  }
  update_free(&u);
  napi_value result;
  napi_create_uint32(env, missing, &result);
  return result;
}

/*
 * mount(engine, mountPoint, options, onEvent): fuse_mount + fuse_new (on this thread, as fuse-native
 * does), then fuse_loop_mt on a new thread with every signal blocked. onEvent('init') once the kernel
 * has initialised the connection, onEvent('exit') when the loop has ended and /dev/fuse is closed.
 */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 4 ? get_engine(env, argv[0]) : NULL;
  napi_valuetype cbt = napi_undefined;
  if (e) napi_typeof(env, argv[3], &cbt);
  if (!e || cbt != napi_function) return throw_msg(env, "hushfs.mount(engine, mountPoint, options, onEvent): bad arguments");
  if (e->mounted) return throw_msg(env, "hushfs.mount: this engine has already mounted");
  char *mnt = get_string(env, argv[1]);
  char *opts = get_string(env, argv[2]);
  if (!mnt || !opts) {
    free(mnt);
    free(opts);
    return throw_msg(env, "hushfs.mount: mountPoint and options must be strings");
  }
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  if (fuse_opt_add_arg(&args, "hush") || fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, opts)) {
    fuse_opt_free_args(&args);
    free(mnt);
    free(opts);
    return throw_msg(env, "hushfs.mount: out of memory");
  }
  free(opts);
  struct fuse_chan *ch = fuse_mount(mnt, &args);
  free(mnt);
  if (!ch) {
    fuse_opt_free_args(&args);
    return throw_msg(env, "hushfs.mount: fuse_mount failed");
  }
  int fd = fuse_chan_fd(ch);
  int fl = fcntl(fd, F_GETFD);
  if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  struct fuse *fuse = fuse_new(ch, &args, &hush_ops, sizeof hush_ops, e);
  fuse_opt_free_args(&args);
  if (!fuse) {
    fuse_chan_destroy(ch); /* closes /dev/fuse; the caller detaches the mount */
    return throw_msg(env, "hushfs.mount: fuse_new failed");
  }
  napi_value name;
  napi_create_string_utf8(env, "hushfs", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &e->tsfn) != napi_ok) {
    fuse_destroy(fuse);
    return throw_msg(env, "hushfs.mount: cannot create the event function");
  }
  e->fuse = fuse;
  e->ch = ch;
  e->mounted = 1;
  __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
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
    fuse_destroy(fuse);
    e->fuse = NULL;
    napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort);
    engine_unref(e);
    return throw_msg(env, "hushfs.mount: cannot start the loop thread");
  }
  return NULL;
}

/* unref(engine): the running loop no longer keeps the process alive (after the caller detached the mount). */
static napi_value js_unref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 1 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_msg(env, "hushfs.unref(engine): bad arguments");
  if (e->mounted && __atomic_load_n(&e->loop_running, __ATOMIC_ACQUIRE)) napi_unref_threadsafe_function(env, e->tsfn);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

/* stats(engine): { blobs (registered ids), liveBlobs (in memory, incl. ones kept by handles), handles, bindings, running } */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 1 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_msg(env, "hushfs.stats(engine): bad arguments");
  napi_value obj;
  napi_create_object(env, &obj);
  set_num(env, obj, "blobs", (double) e->blobs.count);
  pthread_mutex_lock(&e->blob_mutex);
  set_num(env, obj, "liveBlobs", (double) e->blob_count);
  pthread_mutex_unlock(&e->blob_mutex);
  set_num(env, obj, "handles", (double) __atomic_load_n(&e->handle_count, __ATOMIC_RELAXED));
  set_num(env, obj, "bindings", (double) e->bindings.count);
  napi_value running;
  napi_get_boolean(env, __atomic_load_n(&e->loop_running, __ATOMIC_ACQUIRE) != 0, &running);
  napi_set_named_property(env, obj, "running", running);
  return obj;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "create", js_create },
    { "putBlob", js_put_blob },
    { "dropBlob", js_drop_blob },
    { "setTree", js_set_tree },
    { "updateTree", js_update_tree },
    { "mount", js_mount },
    { "unref", js_unref },
    { "stats", js_stats },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
  return exports;
}
