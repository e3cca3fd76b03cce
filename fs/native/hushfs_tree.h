// The tree protocol on C rows (no N-API): one change of the served tree, prepared off the lock and
// applied whole in one step under the write lock, or refused with nothing changed.
// setTree is the same change applied to an empty tree, which then replaces the served one.
#ifndef HUSHFS_TREE_H
#define HUSHFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hushfs_state.h"

/* The rule every name obeys (a root name, a listed name, each component of a row's path). */
#define ONE_COMPONENT "one path component (not empty, '.' or '..'; no '/' or NUL; at most 255 bytes)"

typedef struct {
  double key; /* an integer a double holds exactly */
  char *name;
} root_item_t;

/* A task directory: its path "/NAME", and what readdir lists after "." and "..", in order. */
typedef struct {
  char *path;
  uint32_t uid, gid, mode;
  struct timespec mtime;
  char **names;
  size_t nnames;
} dir_row_t;

/* A file "/DIR/NAME" serving the blob registered as `blob`, bound to `binding`. */
typedef struct {
  char *path, *binding, *blob;
  uint32_t uid, gid, mode;
  struct timespec mtime;
} file_row_t;

/*
 * One change. Every string and array is malloc'ed and owned by the change (change_free); tree_change
 * takes over those it keeps and leaves NULL in their place.
 *   root_removed: order keys of root entries to remove; root_added: entries to insert by key;
 *   dir_paths: directories to remove, with their files (list every directory a dir row replaces);
 *   dirs, files: rows to put in (an entry still at a row's path is replaced; a path given twice keeps
 *     its first row; a file whose blob is not registered is left out and counted);
 *   bindings: with `replace`, the bindings alive (every other registered one is revoked); without,
 *     the bindings to revoke (unknown keys: none).
 */
typedef struct {
  bool replace; /* setTree: start from an empty tree instead of the served one */
  double *root_removed;
  size_t n_root_removed;
  root_item_t *root_added;
  size_t n_root_added;
  char **dir_paths;
  size_t n_dir_paths;
  dir_row_t *dirs;
  size_t n_dirs;
  file_row_t *files;
  size_t n_files;
  char **bindings;
  size_t n_bindings;
} change_t;

void change_free(change_t *c);

/* Whether s is ONE_COMPONENT (a NUL cannot be in a C string: the decoder refuses it). */
bool one_component(const char *s);

/*
 * Applies c (JS thread): the tree change and the revocation of bindings happen in one step under the
 * write lock, so once this returns no FUSE request sees the old tree and every read that starts on a
 * revoked binding fails. Returns NULL, with *missing the number of files left out, or an error
 * message (then the engine is unchanged).
 */
const char *tree_change(engine_t *e, change_t *c, uint32_t *missing);

#endif
