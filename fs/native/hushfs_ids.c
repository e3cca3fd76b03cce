// See hushfs_ids.h.
#define _GNU_SOURCE
#include "hushfs_ids.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 16

typedef struct {
  uint64_t ino;
  uint64_t nlookup; /* the kernel's references (LOOKUP replies not yet forgotten) */
  const char *path; /* the key of its by_path node */
} inode_t;

int ids_init(ids_t *ids) {
  memset(ids, 0, sizeof *ids);
  if (map_init(&ids->by_ino, 64) == 0 && map_init(&ids->by_path, 64) == 0 && pthread_mutex_init(&ids->lock, NULL) == 0) return 0;
  map_clear(&ids->by_ino, NULL);
  map_clear(&ids->by_path, NULL);
  return -1;
}

void ids_free(ids_t *ids, engine_t *e) {
  for (size_t i = 0; i < ids->nslots; i++)
    if (ids->slots[i]) ids_handle_drop(e, ids->slots[i]);
  map_clear(&ids->by_path, NULL);
  map_clear(&ids->by_ino, free);
  free(ids->slots);
  free(ids->free_slots);
  pthread_mutex_destroy(&ids->lock);
}

/* ---- inode numbers ---- */

uint64_t ids_path_ino(const char *path, uint64_t salt) {
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
  for (const unsigned char *p = (const unsigned char *) path; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
  h += salt * 0x9e3779b97f4a7c15ULL; /* splitmix64's finalizer: every bit of the path moves every bit */
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h < 2 ? h + 2 : h; /* 0: no inode; 1: the root */
}

static void ino_key(uint64_t ino, char key[17]) { snprintf(key, 17, "%016" PRIx64, ino); }

uint64_t ids_ino_ref(ids_t *ids, const char *path) {
  uint64_t ino = 0;
  char key[17];
  pthread_mutex_lock(&ids->lock);
  inode_t *in = map_get(&ids->by_path, path);
  for (uint64_t salt = 0; !in && salt < PROBES; salt++) {
    uint64_t cand = ids_path_ino(path, salt);
    ino_key(cand, key);
    if (map_find(&ids->by_ino, key)) continue; /* another path's: a collision */
    inode_t *n = calloc(1, sizeof *n);
    node_t *pn = n ? node_new(path, n) : NULL;
    node_t *in_node = pn ? node_new(key, n) : NULL;
    if (!in_node) {
      if (pn) node_free(pn, NULL);
      free(n);
      break;
    }
    n->ino = cand;
    n->path = pn->key;
    map_link(&ids->by_path, pn);
    map_link(&ids->by_ino, in_node);
    in = n;
  }
  if (in) {
    in->nlookup++;
    ino = in->ino;
  }
  pthread_mutex_unlock(&ids->lock);
  return ino;
}

void ids_forget(ids_t *ids, uint64_t ino, uint64_t nlookup) {
  char key[17];
  ino_key(ino, key);
  pthread_mutex_lock(&ids->lock);
  inode_t *in = map_get(&ids->by_ino, key);
  if (in) in->nlookup = nlookup < in->nlookup ? in->nlookup - nlookup : 0;
  if (in && in->nlookup == 0) {
    node_free(map_unlink(&ids->by_path, in->path), NULL);
    node_free(map_unlink(&ids->by_ino, key), free);
  }
  pthread_mutex_unlock(&ids->lock);
}

bool ids_path(ids_t *ids, uint64_t ino, char buf[PATH_MAX_LEN + 1]) {
  if (ino == 1) {
    strcpy(buf, "/");
    return true;
  }
  char key[17];
  ino_key(ino, key);
  pthread_mutex_lock(&ids->lock);
  const inode_t *in = map_get(&ids->by_ino, key);
  if (in) snprintf(buf, PATH_MAX_LEN + 1, "%s", in->path);
  pthread_mutex_unlock(&ids->lock);
  return in != NULL;
}

/* ---- file handles ---- */

uint64_t ids_handle_put(ids_t *ids, handle_t *h) {
  uint64_t fh = 0;
  pthread_mutex_lock(&ids->lock);
  if (ids->nfree == 0 && ids->nslots == ids->cap) {
    size_t cap = ids->cap ? ids->cap * 2 : 64;
    handle_t **slots = realloc(ids->slots, cap * sizeof *slots);
    if (slots) ids->slots = slots;
    size_t *free_slots = slots ? realloc(ids->free_slots, cap * sizeof *free_slots) : NULL;
    if (free_slots) {
      ids->free_slots = free_slots;
      ids->cap = cap;
    }
  }
  size_t slot = SIZE_MAX;
  if (ids->nfree > 0) slot = ids->free_slots[--ids->nfree];
  else if (ids->nslots < ids->cap) slot = ids->nslots++;
  if (slot != SIZE_MAX) {
    ids->slots[slot] = h;
    fh = slot + 1;
  }
  pthread_mutex_unlock(&ids->lock);
  return fh;
}

/* Under ids->lock: fh's handle, or NULL. */
static handle_t *handle_at(const ids_t *ids, uint64_t fh) { return fh >= 1 && fh <= ids->nslots ? ids->slots[fh - 1] : NULL; }

void ids_handle_drop(engine_t *e, handle_t *h) {
  blob_unref(h->blob);
  binding_unref(h->binding);
  free(h);
  __atomic_sub_fetch(&e->handle_count, 1, __ATOMIC_RELAXED);
}

handle_t *ids_handle_take(ids_t *ids, uint64_t fh) {
  pthread_mutex_lock(&ids->lock);
  handle_t *h = handle_at(ids, fh);
  if (h) {
    ids->slots[fh - 1] = NULL;
    ids->free_slots[ids->nfree++] = fh - 1;
  }
  pthread_mutex_unlock(&ids->lock);
  return h;
}

int ids_read_blob(ids_t *ids, uint64_t fh, blob_t **held) {
  int err = 0;
  pthread_mutex_lock(&ids->lock);
  const handle_t *h = handle_at(ids, fh);
  if (!h) err = EBADF;
  else if (__atomic_load_n(&h->binding->revoked, __ATOMIC_ACQUIRE)) err = EACCES;
  else blob_ref(*held = h->blob);
  pthread_mutex_unlock(&ids->lock);
  return err;
}
