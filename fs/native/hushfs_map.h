// A small string-keyed hash map (chained, nodes own their keys) and a growable array of pointers:
// the containers of the engine's state (hushfs_state.h) and of a change (hushfs_tree.c).
// Not thread-safe: each map says which lock or thread it belongs to.
#ifndef HUSHFS_MAP_H
#define HUSHFS_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct node {
  struct node *next;
  uint64_t hash;
  char *key; /* owned */
  void *val;
} node_t;

typedef struct {
  node_t **buckets;
  size_t nbuckets; /* power of two */
  size_t count;
} map_t;

/* A growable array of pointers. */
typedef struct {
  void **v;
  size_t n, cap;
} vec_t;

int map_init(map_t *m, size_t hint);
node_t *map_find(const map_t *m, const char *key);
void *map_get(const map_t *m, const char *key);
/* Links a node whose key is not present (in a map map_init made). Never fails (a failed grow keeps the longer chains). */
void map_link(map_t *m, node_t *n);
/* Inserts key (copied) → val; the key must not be present. */
int map_put(map_t *m, const char *key, void *val);
/* Unlinks key's node and returns it (NULL if absent); the caller frees it. `key` may be that node's own. */
node_t *map_unlink(map_t *m, const char *key);
/* Removes key; returns its value (NULL if absent). */
void *map_remove(map_t *m, const char *key);
/* Moves every node of src into dst (src ends empty, still usable). With `replaced` (room reserved by
   the caller), a node of dst with the same key is unlinked and pushed there; without, keys must be new. */
void map_move_all(map_t *dst, map_t *src, vec_t *replaced);
/* Frees every node (and calls fn on each value) and the buckets. */
void map_clear(map_t *m, void (*fn)(void *));

/* A node for key (copied) → val, in no map yet; NULL when out of memory. */
node_t *node_new(const char *key, void *val);
/* The same, taking ownership of key (a malloc'ed string) on success only. */
node_t *node_adopt(char *key, void *val);
/* Frees a node that is in no map (and calls fn on its value). */
void node_free(node_t *n, void (*fn)(void *));

int vec_reserve(vec_t *a, size_t cap);
int vec_push(vec_t *a, void *p);
/* Frees the array, and each element with fn when given. */
void vec_free(vec_t *a, void (*fn)(void *));

#endif
