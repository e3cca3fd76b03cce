// See hushfs_state.h.
#define _GNU_SOURCE
#include "hushfs_state.h"
#include <errno.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

engine_t *engine_new(struct timespec root_time) {
  engine_t *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->refs = 1;
  e->root_time = root_time;
  if (map_init(&e->blobs, 16) != 0 || map_init(&e->bindings, 16) != 0) goto fail_maps;
  if (pthread_rwlock_init(&e->lock, NULL) != 0) goto fail_maps;
  if (pthread_mutex_init(&e->blob_mutex, NULL) != 0) goto fail_lock;
  return e;

fail_lock:
  pthread_rwlock_destroy(&e->lock);
fail_maps:
  map_clear(&e->blobs, NULL);
  map_clear(&e->bindings, NULL);
  free(e);
  return NULL;
}

void engine_ref(engine_t *e) { __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED); }

bool engine_zero_live_blobs(engine_t *e) {
  pthread_mutex_lock(&e->blob_mutex);
  for (blob_t *b = e->live_blobs; b; b = b->next) explicit_bzero(b->data, b->len);
  bool none = e->live_blobs == NULL;
  pthread_mutex_unlock(&e->blob_mutex);
  return none;
}

static void blob_unref_void(void *b) { blob_unref(b); }

static void engine_free(engine_t *e) {
  tree_free(e->tree);
  map_clear(&e->bindings, binding_unref_void);
  map_clear(&e->blobs, blob_unref_void);
  /* Blobs still referenced by handles that were never released (connection aborted): zeroed. Any
     left (and their handles) are unreachable now, and point to the engine: left to the process. */
  if (engine_zero_live_blobs(e)) {
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->blob_mutex);
    free(e);
  }
}

void engine_unref(engine_t *e) {
  if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) engine_free(e);
}

blob_t *blob_new(engine_t *e, const void *src, size_t len) {
  blob_t *b = calloc(1, sizeof *b);
  unsigned char *data = malloc(len ? len : 1);
  if (!b || !data) {
    free(b);
    free(data);
    return NULL;
  }
  memcpy(data, src, len);
  /* Keeps secrets out of swap. Without CAP_IPC_LOCK it is bounded by RLIMIT_MEMLOCK: a failure is
   * counted (stats, putBlob's result) and the blob is served anyway. */
  b->locked = mlock(data, len ? len : 1) == 0;
  if (!b->locked) {
    __atomic_store_n(&e->mlock_errno, errno, __ATOMIC_RELAXED);
    __atomic_add_fetch(&e->mlock_failures, 1, __ATOMIC_RELAXED);
  }
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
  return b;
}

void blob_ref(blob_t *b) { __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED); }

void blob_unref(blob_t *b) {
  if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  engine_t *e = b->owner;
  pthread_mutex_lock(&e->blob_mutex);
  if (b->prev) b->prev->next = b->next;
  else e->live_blobs = b->next;
  if (b->next) b->next->prev = b->prev;
  e->blob_count--;
  pthread_mutex_unlock(&e->blob_mutex);
  explicit_bzero(b->data, b->len);
  /* No munlock: the locked pages may hold other blobs too (mlock does not count). */
  free(b->data);
  free(b);
}

int engine_put_blob(engine_t *e, const char *id, blob_t *b) {
  node_t *n = map_find(&e->blobs, id);
  if (!n) return map_put(&e->blobs, id, b);
  blob_t *old = n->val;
  n->val = b;
  blob_unref(old); /* entries and handles keep their own references */
  return 0;
}

void engine_drop_blob(engine_t *e, const char *id) {
  blob_t *b = map_remove(&e->blobs, id);
  if (b) blob_unref(b);
}

binding_t *binding_new(void) {
  binding_t *b = calloc(1, sizeof *b);
  if (b) b->refs = 1;
  return b;
}

void binding_ref(binding_t *b) { __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED); }

void binding_unref(binding_t *b) {
  if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) free(b);
}

void binding_unref_void(void *b) { binding_unref(b); }

entry_t *entry_new(int kind) {
  entry_t *en = calloc(1, sizeof *en);
  if (en) en->kind = kind;
  return en;
}

void entry_free(void *p) {
  entry_t *en = p;
  if (en->blob) blob_unref(en->blob);
  if (en->binding) binding_unref(en->binding);
  for (size_t i = 0; i < en->nnames; i++) free(en->names[i]);
  free(en->names);
  free(en->keys);
  free(en);
}

void entry_node_free(void *n) { node_free(n, entry_free); }

tree_t *tree_new(const engine_t *e, size_t hint) {
  tree_t *t = calloc(1, sizeof *t);
  entry_t *root = entry_new(K_ROOT);
  if (!t || !root || map_init(&t->paths, hint + 1) != 0) goto fail;
  root->mode = ROOT_MODE;
  root->mtime = e->root_time;
  if (map_put(&t->paths, "/", root) != 0) goto fail;
  return t;

fail:
  if (root) entry_free(root);
  if (t) map_clear(&t->paths, NULL);
  free(t);
  return NULL;
}

void tree_free(tree_t *t) {
  if (!t) return;
  map_clear(&t->paths, entry_free);
  free(t);
}
