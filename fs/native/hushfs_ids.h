// The low-level engine's (hushfs_ll.c) own numbering, kept apart from libfuse so that a later process
// can be given it: inode number ↔ path while the kernel holds the number, and fh → open handle.
// Thread-safe (one mutex); see hushfs_ll.c for why the numbers are what they are.
#ifndef HUSHFS_IDS_H
#define HUSHFS_IDS_H

#include <stdbool.h>
#include <stdint.h>

#include "hushfs_state.h"

#define PATH_MAX_LEN (1 + NAME_BYTES_MAX + 1 + NAME_BYTES_MAX) /* "/DIR/FILE" */

typedef struct {
  pthread_mutex_t lock;
  map_t by_ino;      /* "%016" PRIx64 → inode (the root, 1, is not in it) */
  map_t by_path;     /* path → the same inode */
  handle_t **slots;  /* fh - 1 → handle (NULL: free) */
  size_t *free_slots;
  size_t nslots, nfree, cap;
} ids_t;

int ids_init(ids_t *ids);
/* Drops every handle still in the table (refs and handle_count), then frees the tables. */
void ids_free(ids_t *ids, engine_t *e);

/* A path's number with this probe salt (0 normally): a 64-bit hash, never 0 (none) or 1 (the root). */
uint64_t ids_path_ino(const char *path, uint64_t salt);
/* The path's number, counted as one more kernel reference (a LOOKUP reply); 0 when out of memory or
   no probe is free. A number another path holds is skipped (a collision: the next salt). */
uint64_t ids_ino_ref(ids_t *ids, const char *path);
/* FORGET: nlookup references fewer; the number is forgotten at 0. */
void ids_forget(ids_t *ids, uint64_t ino, uint64_t nlookup);
/* Copies ino's path into buf; false for a number the kernel was not given (or has forgotten). */
bool ids_path(ids_t *ids, uint64_t ino, char buf[PATH_MAX_LEN + 1]);

/* A slot for h: its fh (slot + 1); 0 when out of memory. */
uint64_t ids_handle_put(ids_t *ids, handle_t *h);
/* Takes fh's handle out of the table (NULL if none); the caller drops it. */
handle_t *ids_handle_take(ids_t *ids, uint64_t fh);
/* Unrefs a handle's blob and binding, frees it, counts it out of e->handle_count. */
void ids_handle_drop(engine_t *e, handle_t *h);
/* READ: fh's blob with a reference of the caller's (*held), or EBADF (no such handle) or EACCES (revoked). */
int ids_read_blob(ids_t *ids, uint64_t fh, blob_t **held);

#endif
