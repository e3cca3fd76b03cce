// The engine's state, refcounted, and who may touch what:
//  - BLOB: one secret version's bytes (refcounted; malloc'ed, mlock'ed when possible, zeroed before
//    free). The registry id → blob (`${secretId}@${version}`) holds one reference, every tree entry
//    and every open handle one more.
//  - BINDING: (task incarnation, target, secret id) → { revoked } (refcounted). A handle captures the
//    binding and the blob of the path it opened: a read that starts after the binding is revoked fails
//    with EACCES, and otherwise returns the captured blob (an old fd keeps reading the version it opened
//    after a rotation).
//  - TREE: path → entry (root, task dirs, files incl. service aliases), changed by hushfs_tree.c under
//    the write lock; the FUSE operations (hushfs_hl.c) read it under the read lock.
// Only the JS thread writes (the N-API calls of hushfs_napi.c): the registries are JS-thread-only and
// need no lock.
#ifndef HUSHFS_STATE_H
#define HUSHFS_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "hushfs_map.h"

#define BLOCK 4096
// The root: listable by root only; any uid may traverse it to a task directory whose name it knows
// (whose own mode then decides). The same as fs/ops.ts's ROOT_MODE.
#define ROOT_MODE 0711
// The longest name of one path component (statfs f_namemax).
#define NAME_BYTES_MAX 255

struct engine;

typedef struct blob {
  int refs; /* atomic */
  size_t len;
  unsigned char *data;
  bool locked; /* mlock'ed */
  struct engine *owner;
  struct blob *prev, *next; /* the owner's list of live blobs, under its blob_mutex */
} blob_t;

typedef struct binding {
  int refs;    /* atomic */
  int revoked; /* atomic: set under the write lock */
  unsigned long live_mark; /* JS thread: the last setTree that found it alive (engine_t.epoch) */
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
  map_t paths; /* path → entry_t*; "/" is always there */
  size_t root_names;
} tree_t;

typedef struct handle {
  binding_t *binding;
  blob_t *blob;
} handle_t;

/* What the FUSE loop tells its owner (the N-API layer), on the loop's threads. */
typedef struct {
  void (*on_init)(void *ctx);
  /* The loop has ended and /dev/fuse is closed; ctx is not used after this. */
  void (*on_exit)(void *ctx);
  void *ctx;
} engine_events_t;

typedef struct engine {
  int refs; /* atomic: the JS object's + the loop thread's */
  pthread_rwlock_t lock;
  tree_t *tree; /* under lock; NULL until the first setTree */
  struct timespec root_time;
  /* JS thread only */
  map_t blobs;    /* id → blob_t* (one reference each) */
  map_t bindings; /* key → binding_t* (one reference each): the live bindings */
  unsigned long epoch; /* one more per setTree (binding_t.live_mark) */
  /* blob bookkeeping (any thread) */
  pthread_mutex_t blob_mutex;
  blob_t *live_blobs;
  long blob_count;
  long handle_count; /* atomic */
  long mlock_failures; /* atomic: blobs whose pages could not be locked (RLIMIT_MEMLOCK) */
  int mlock_errno;     /* atomic: errno of the last failed mlock */
  /* FUSE (hushfs_hl.c) */
  struct fuse *fuse;
  int mounted;      /* JS thread */
  int loop_running; /* atomic */
  engine_events_t events;
} engine_t;

/* A new engine with one reference and no tree; NULL when out of memory. */
engine_t *engine_new(struct timespec root_time);
void engine_ref(engine_t *e);
void engine_unref(engine_t *e);
/* Zeroes the bytes of every blob still in memory (those kept by handles never released, too);
   returns whether there were none. */
bool engine_zero_live_blobs(engine_t *e);

/* A copy of len bytes (one reference), mlock'ed when possible; NULL when out of memory. */
blob_t *blob_new(engine_t *e, const void *src, size_t len);
void blob_ref(blob_t *b);
/* The last reference zeroes and frees the bytes. */
void blob_unref(blob_t *b);
/* Registers b under id (taking its reference), replacing a blob of the same id; -1 when out of memory
   (then nothing changed and b is still the caller's). */
int engine_put_blob(engine_t *e, const char *id, blob_t *b);
/* Forgets id; its bytes are zeroed and freed with their last reference. */
void engine_drop_blob(engine_t *e, const char *id);

binding_t *binding_new(void);
void binding_ref(binding_t *b);
void binding_unref(binding_t *b);
void binding_unref_void(void *b);

entry_t *entry_new(int kind);
void entry_free(void *en);
/* Frees a node of a tree's paths (path → entry_t*). */
void entry_node_free(void *n);

/* A tree holding only the root entry (no names), owned by e's JS thread until installed; NULL when out of memory. */
tree_t *tree_new(const engine_t *e, size_t hint);
void tree_free(tree_t *t);

#endif
