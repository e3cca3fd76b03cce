// See hushfs_tree.h. A change is prepared off the lock (everything that can fail: validation,
// allocations, lookups), then applied under the write lock by steps that cannot fail, and what it
// unlinked is freed after the lock.
#define _GNU_SOURCE
#include "hushfs_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void change_free(change_t *c) {
  free(c->root_removed);
  for (size_t i = 0; i < c->n_root_added; i++) free(c->root_added[i].name);
  free(c->root_added);
  for (size_t i = 0; i < c->n_dir_paths; i++) free(c->dir_paths[i]);
  free(c->dir_paths);
  for (size_t i = 0; i < c->n_dirs; i++) {
    dir_row_t *d = &c->dirs[i];
    free(d->path);
    for (size_t j = 0; j < d->nnames; j++) free(d->names[j]);
    free(d->names);
  }
  free(c->dirs);
  for (size_t i = 0; i < c->n_files; i++) {
    free(c->files[i].path);
    free(c->files[i].binding);
    free(c->files[i].blob);
  }
  free(c->files);
  for (size_t i = 0; i < c->n_bindings; i++) free(c->bindings[i]);
  free(c->bindings);
  memset(c, 0, sizeof *c);
}

/* ---- validation: every name one path component, every path /NAME or /NAME/NAME ---- */

static bool component_n(const char *s, size_t len) {
  if (len == 0 || len > NAME_BYTES_MAX || memchr(s, '/', len)) return false;
  return !(s[0] == '.' && (len == 1 || (len == 2 && s[1] == '.')));
}

bool one_component(const char *s) { return component_n(s, strnlen(s, NAME_BYTES_MAX + 1)); }

static bool dir_path_ok(const char *p) { return p[0] == '/' && one_component(p + 1); }

static bool file_path_ok(const char *p) {
  if (p[0] != '/') return false;
  const char *slash = strchr(p + 1, '/');
  return slash && component_n(p + 1, (size_t) (slash - p - 1)) && one_component(slash + 1);
}

static const char *validate(const change_t *c) {
  for (size_t i = 0; i < c->n_root_added; i++)
    if (!one_component(c->root_added[i].name)) return "a root entry's name is not " ONE_COMPONENT;
  for (size_t i = 0; i < c->n_dir_paths; i++)
    if (!dir_path_ok(c->dir_paths[i])) return "a directory to remove is not /NAME, NAME " ONE_COMPONENT;
  for (size_t i = 0; i < c->n_dirs; i++) {
    const dir_row_t *d = &c->dirs[i];
    if (!dir_path_ok(d->path)) return "a dir row's path is not /NAME, NAME " ONE_COMPONENT;
    for (size_t j = 0; j < d->nnames; j++)
      if (!one_component(d->names[j])) return "a name a dir row lists is not " ONE_COMPONENT;
  }
  for (size_t i = 0; i < c->n_files; i++)
    if (!file_path_ok(c->files[i].path)) return "a file row's path is not /NAME/NAME, each NAME " ONE_COMPONENT;
  return NULL;
}

/* ---- prepare ---- */

typedef struct {
  tree_t *t;          /* the tree changed: the served one, or a new empty one (replace) */
  entry_t *root;      /* t's root entry */
  vec_t drops;        /* node_t* of t: each removed directory and its files, unlinked at commit */
  map_t adds;         /* path → entry_t*: the new entries, each replacing the one at its path */
  map_t new_bindings; /* key → binding_t*: bindings first used by this change, registered after it */
  vec_t revoke;       /* const char*: keys of registered bindings to revoke */
  vec_t garbage;      /* node_t*: unlinked under the lock, freed after it (room reserved beforehand) */
  /* The new root listing (NULL: unchanged); it reuses the old entries' names, except those gone. */
  char **root_names;
  double *root_keys;
  size_t root_n;
  bool *root_gone; /* per old root entry: removed (its name is freed after the commit) */
} update_t;

static void update_free(update_t *u) {
  vec_free(&u->drops, NULL); /* still t's */
  map_clear(&u->adds, entry_free);
  map_clear(&u->new_bindings, binding_unref_void);
  vec_free(&u->revoke, NULL);
  vec_free(&u->garbage, entry_node_free);
  free(u->root_names); /* the arrays only: the names are the root entry's */
  free(u->root_keys);
  free(u->root_gone);
}

/* Queues the directory at `path` (if it is one) and its files for removal. */
static int drop_dir(update_t *u, const char *path) {
  node_t *dn = map_find(&u->t->paths, path);
  const entry_t *en = dn ? dn->val : NULL;
  if (!en || en->kind != K_DIR) return 0;
  if (vec_push(&u->drops, dn) != 0) return -1;
  char file[1 + NAME_BYTES_MAX + 1 + NAME_BYTES_MAX + 1]; /* every name in the tree was validated */
  for (size_t i = 0; i < en->nnames; i++) {
    snprintf(file, sizeof file, "%s/%s", path, en->names[i]);
    node_t *fn = map_find(&u->t->paths, file);
    if (fn && vec_push(&u->drops, fn) != 0) return -1;
  }
  return 0;
}

/* Queues `en` at *path (taking the path) unless a row already gave that path; frees `en` when not queued. */
static int add_entry(update_t *u, char **path, entry_t *en) {
  if (map_find(&u->adds, *path)) { entry_free(en); return 0; } /* the first row wins */
  node_t *n = node_adopt(*path, en);
  if (!n) { entry_free(en); return -1; }
  *path = NULL;
  map_link(&u->adds, n);
  return 0;
}

static int add_dir(update_t *u, dir_row_t *d) {
  if (map_find(&u->adds, d->path)) return 0;
  entry_t *en = entry_new(K_DIR);
  if (!en) return -1;
  en->uid = d->uid;
  en->gid = d->gid;
  en->mode = d->mode & 0777;
  en->mtime = d->mtime;
  en->names = d->names;
  en->nnames = d->nnames;
  d->names = NULL;
  d->nnames = 0;
  return add_entry(u, &d->path, en);
}

/* The binding a file row names: registered, or new in this change (taking the row's key). */
static binding_t *row_binding(engine_t *e, update_t *u, file_row_t *r) {
  binding_t *bd = map_get(&e->bindings, r->binding);
  if (!bd) bd = map_get(&u->new_bindings, r->binding);
  if (bd) return bd;
  bd = binding_new();
  node_t *n = bd ? node_adopt(r->binding, bd) : NULL;
  if (!n) {
    if (bd) binding_unref(bd);
    return NULL;
  }
  r->binding = NULL;
  map_link(&u->new_bindings, n);
  return bd;
}

static int add_file(engine_t *e, update_t *u, file_row_t *r, bool replace, uint32_t *missing) {
  blob_t *b = map_get(&e->blobs, r->blob);
  if (!b) { (*missing)++; return 0; }
  if (map_find(&u->adds, r->path)) return 0;
  binding_t *bd = row_binding(e, u, r);
  entry_t *en = bd ? entry_new(K_FILE) : NULL;
  if (!en) return -1;
  if (replace) bd->live_mark = e->epoch;
  en->uid = r->uid;
  en->gid = r->gid;
  en->mode = r->mode & 0777;
  en->mtime = r->mtime;
  blob_ref(b);
  binding_ref(bd);
  en->blob = b;
  en->binding = bd;
  return add_entry(u, &r->path, en);
}

/* The bindings to revoke: those listed (registered ones), or with `replace` every registered one not alive. */
static int prepare_revoke(engine_t *e, const change_t *c, update_t *u) {
  if (!c->replace) {
    for (size_t i = 0; i < c->n_bindings; i++)
      if (map_get(&e->bindings, c->bindings[i]) && vec_push(&u->revoke, c->bindings[i]) != 0) return -1;
    return 0;
  }
  for (size_t i = 0; i < c->n_bindings; i++) {
    binding_t *bd = map_get(&e->bindings, c->bindings[i]);
    if (bd) bd->live_mark = e->epoch;
  }
  for (size_t i = 0; i < e->bindings.nbuckets; i++)
    for (node_t *n = e->bindings.buckets[i]; n; n = n->next)
      if (((binding_t *) n->val)->live_mark != e->epoch && vec_push(&u->revoke, n->key) != 0) return -1;
  return 0;
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

static int cmp_root_item(const void *a, const void *b) {
  double x = ((const root_item_t *) a)->key, y = ((const root_item_t *) b)->key;
  return x < y ? -1 : x > y;
}

/* Merges the root's listing without the removed keys with the added entries, in key order. */
static const char *prepare_root(change_t *c, update_t *u) {
  const entry_t *root = u->root;
  size_t old_n = root->nnames, nadd = c->n_root_added;
  bool *gone = calloc(old_n ? old_n : 1, sizeof *gone);
  if (!gone) return "out of memory";
  u->root_gone = gone;
  for (size_t i = 0; i < c->n_root_removed; i++) {
    double key = c->root_removed[i];
    size_t at = key_index(root->keys, old_n, key);
    if (at == old_n || root->keys[at] != key || gone[at]) return "a root entry to remove is not there";
    gone[at] = true;
  }
  root_item_t *items = c->root_added;
  qsort(items, nadd, sizeof *items, cmp_root_item);
  for (size_t i = 1; i < nadd; i++)
    if (items[i].key == items[i - 1].key) return "two root entries to add have one key";
  size_t n = old_n - c->n_root_removed + nadd;
  u->root_names = calloc(n ? n : 1, sizeof *u->root_names);
  u->root_keys = calloc(n ? n : 1, sizeof *u->root_keys);
  if (!u->root_names || !u->root_keys) return "out of memory";
  size_t i = 0, j = 0, k = 0;
  while (i < old_n || j < nadd) {
    if (i < old_n && gone[i]) { i++; continue; }
    if (i < old_n && j < nadd && root->keys[i] == items[j].key) return "a root entry to add has the key of one already there";
    if (j == nadd || (i < old_n && root->keys[i] < items[j].key)) {
      u->root_names[k] = root->names[i];
      u->root_keys[k++] = root->keys[i++];
    } else {
      u->root_names[k] = items[j].name;
      u->root_keys[k++] = items[j++].key;
    }
  }
  u->root_n = n;
  for (j = 0; j < nadd; j++) items[j].name = NULL; /* in root_names now */
  return NULL;
}

static const char *prepare(engine_t *e, change_t *c, update_t *u, uint32_t *missing) {
  const char *bad = validate(c);
  if (bad) return bad;
  if (map_init(&u->adds, c->n_dirs + c->n_files) != 0 || map_init(&u->new_bindings, 8) != 0) return "out of memory";
  for (size_t i = 0; i < c->n_dir_paths; i++)
    if (drop_dir(u, c->dir_paths[i]) != 0) return "out of memory";
  for (size_t i = 0; i < c->n_dirs; i++)
    if (add_dir(u, &c->dirs[i]) != 0) return "out of memory";
  for (size_t i = 0; i < c->n_files; i++)
    if (add_file(e, u, &c->files[i], c->replace, missing) != 0) return "out of memory";
  if (prepare_revoke(e, c, u) != 0 || vec_reserve(&u->garbage, u->drops.n + u->adds.count) != 0) return "out of memory";
  /* Last: nothing may fail once the new root listing holds the added names. */
  if (c->n_root_removed + c->n_root_added > 0) return prepare_root(c, u);
  return NULL;
}

/* ---- commit ---- */

/* The steps that cannot fail: unlink the drops, link the adds, install the root listing. */
static void apply(update_t *u) {
  tree_t *t = u->t;
  for (size_t i = 0; i < u->drops.n; i++) {
    node_t *n = map_unlink(&t->paths, ((node_t *) u->drops.v[i])->key); /* NULL when queued twice */
    if (n) u->garbage.v[u->garbage.n++] = n;
  }
  map_move_all(&t->paths, &u->adds, &u->garbage);
  if (u->root_names) {
    u->root->names = u->root_names;
    u->root->keys = u->root_keys;
    u->root->nnames = u->root_n;
    t->root_names = u->root_n;
    u->root_names = NULL;
    u->root_keys = NULL;
  }
}

const char *tree_change(engine_t *e, change_t *c, uint32_t *missing) {
  *missing = 0;
  if (!c->replace && !e->tree) return "no tree yet (setTree first)";
  update_t u = { 0 };
  if (c->replace) {
    e->epoch++;
    u.t = tree_new(e, c->n_dirs + c->n_files);
    if (!u.t) return "out of memory";
  } else {
    u.t = e->tree;
  }
  u.root = map_get(&u.t->paths, "/");
  const char *bad = prepare(e, c, &u, missing);
  if (bad) {
    update_free(&u);
    if (c->replace) tree_free(u.t);
    return bad;
  }

  entry_t *root = u.root;
  char **old_names = root->names;
  double *old_keys = root->keys;
  size_t old_n = root->nnames;
  bool new_root = u.root_names != NULL;
  tree_t *old_tree = NULL;
  if (c->replace) apply(&u); /* a tree no request can see yet */
  pthread_rwlock_wrlock(&e->lock);
  if (c->replace) {
    old_tree = e->tree;
    e->tree = u.t;
  } else {
    apply(&u);
  }
  for (size_t i = 0; i < u.revoke.n; i++) {
    binding_t *bd = map_get(&e->bindings, u.revoke.v[i]);
    __atomic_store_n(&bd->revoked, 1, __ATOMIC_RELEASE);
  }
  pthread_rwlock_unlock(&e->lock);

  /* No request can reach what was unlinked or replaced any more: free it (handles hold their own references). */
  if (new_root) {
    for (size_t i = 0; i < old_n; i++)
      if (u.root_gone[i]) free(old_names[i]);
    free(old_names);
    free(old_keys);
  }
  tree_free(old_tree);
  /* A key from the registry's own node is freed by its removal; each is queued once. */
  for (size_t i = 0; i < u.revoke.n; i++) {
    binding_t *bd = map_remove(&e->bindings, u.revoke.v[i]);
    if (bd) binding_unref(bd);
  }
  map_move_all(&e->bindings, &u.new_bindings, NULL);
  update_free(&u);
  return NULL;
}
