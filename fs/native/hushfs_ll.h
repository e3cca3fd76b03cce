// The FUSE side on libfuse2's LOW-level API (HUSH_FS_ENGINE=native-ll): the same operations, answers
// and guarantees as hushfs_hl.c over the same tree, but with inode numbers and file handles a later
// process could be given (issue 11: adopting the /dev/fuse connection of a process that ended).
#ifndef HUSHFS_LL_H
#define HUSHFS_LL_H

#include "hushfs_state.h"

/*
 * As hl_mount: fuse_mount on this thread, then the low-level session loop (fuse_session_loop_mt) on a
 * new thread with every signal blocked, holding a reference to e until it ends; events.on_init once
 * the kernel has initialised the connection, events.on_exit when the loop has ended and /dev/fuse is
 * closed. Returns NULL or an error message (then no loop runs; a mount that fuse_mount made is left
 * for the caller to detach).
 */
const char *ll_mount(engine_t *e, const char *mount_point, const char *options, engine_events_t events);

#endif
