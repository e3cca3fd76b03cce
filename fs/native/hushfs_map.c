// See hushfs_map.h.
#define _GNU_SOURCE
#include "hushfs_map.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char) *s;
    h *= 1099511628211ULL;
  }
  return h;
}

int map_init(map_t *m, size_t hint) {
  size_t n = 16;
  while (n < hint * 2) n <<= 1;
  m->buckets = calloc(n, sizeof *m->buckets);
  m->nbuckets = m->buckets ? n : 0;
  m->count = 0;
  return m->buckets ? 0 : -1;
}

node_t *map_find(const map_t *m, const char *key) {
  if (!m->nbuckets) return NULL;
  uint64_t h = hash_str(key);
  for (node_t *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
    if (n->hash == h && strcmp(n->key, key) == 0) return n;
  return NULL;
}

void *map_get(const map_t *m, const char *key) {
  node_t *n = map_find(m, key);
  return n ? n->val : NULL;
}

static void map_grow(map_t *m) {
  size_t nb = m->nbuckets * 2;
  if (!nb) return; /* never initialised: map_link needs map_init first */
  node_t **b = calloc(nb, sizeof *b);
  if (!b) return; /* keep the longer chains */
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t *n = m->buckets[i];
    while (n) {
      node_t *next = n->next;
      n->next = b[n->hash & (nb - 1)];
      b[n->hash & (nb - 1)] = n;
      n = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = nb;
}

void map_link(map_t *m, node_t *n) {
  if (m->count + 1 > m->nbuckets) map_grow(m);
  size_t i = n->hash & (m->nbuckets - 1);
  n->next = m->buckets[i];
  m->buckets[i] = n;
  m->count++;
}

int map_put(map_t *m, const char *key, void *val) {
  node_t *n = node_new(key, val);
  if (!n) return -1;
  map_link(m, n);
  return 0;
}

node_t *map_unlink(map_t *m, const char *key) {
  if (!m->nbuckets) return NULL;
  uint64_t h = hash_str(key);
  for (node_t **p = &m->buckets[h & (m->nbuckets - 1)]; *p; p = &(*p)->next) {
    node_t *n = *p;
    if (n->hash == h && strcmp(n->key, key) == 0) {
      *p = n->next;
      n->next = NULL;
      m->count--;
      return n;
    }
  }
  return NULL;
}

void *map_remove(map_t *m, const char *key) {
  node_t *n = map_unlink(m, key);
  if (!n) return NULL;
  void *val = n->val;
  node_free(n, NULL);
  return val;
}

void map_move_all(map_t *dst, map_t *src, vec_t *replaced) {
  for (size_t i = 0; i < src->nbuckets; i++) {
    node_t *n = src->buckets[i];
    src->buckets[i] = NULL;
    while (n) {
      node_t *next = n->next;
      if (replaced) {
        node_t *old = map_unlink(dst, n->key);
        if (old) replaced->v[replaced->n++] = old;
      }
      map_link(dst, n);
      n = next;
    }
  }
  src->count = 0;
}

void map_clear(map_t *m, void (*fn)(void *)) {
  if (!m->buckets) return;
  for (size_t i = 0; i < m->nbuckets; i++) {
    node_t *n = m->buckets[i];
    while (n) {
      node_t *next = n->next;
      node_free(n, fn);
      n = next;
    }
  }
  free(m->buckets);
  m->buckets = NULL;
  m->nbuckets = 0;
  m->count = 0;
}

node_t *node_adopt(char *key, void *val) {
  node_t *n = malloc(sizeof *n);
  if (!n) return NULL;
  n->key = key;
  n->hash = hash_str(key);
  n->val = val;
  n->next = NULL;
  return n;
}

node_t *node_new(const char *key, void *val) {
  char *copy = strdup(key);
  node_t *n = copy ? node_adopt(copy, val) : NULL;
  if (!n) free(copy);
  return n;
}

void node_free(node_t *n, void (*fn)(void *)) {
  if (fn) fn(n->val);
  free(n->key);
  free(n);
}

int vec_reserve(vec_t *a, size_t cap) {
  if (cap <= a->cap) return 0;
  void **v = realloc(a->v, cap * sizeof *v);
  if (!v) return -1;
  a->v = v;
  a->cap = cap;
  return 0;
}

int vec_push(vec_t *a, void *p) {
  if (a->n == a->cap && vec_reserve(a, a->cap ? a->cap * 2 : 16) != 0) return -1;
  a->v[a->n++] = p;
  return 0;
}

void vec_free(vec_t *a, void (*fn)(void *)) {
  if (fn)
    for (size_t i = 0; i < a->n; i++) fn(a->v[i]);
  free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}
