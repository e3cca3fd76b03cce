// The FUSE side (libfuse2 high-level API, FUSE_USE_VERSION 26): the operations of fs/ops.ts on the
// engine's tree, READ answered straight from the blob, and the loop on its own thread.
#ifndef HUSHFS_HL_H
#define HUSHFS_HL_H

#include "hushfs_state.h"

/*
 * fuse_mount + fuse_new on this thread (as fuse-native does), then fuse_loop_mt on a new thread with
 * every signal blocked, which holds a reference to e until the loop ends. events.on_init once the
 * kernel has initialised the connection, events.on_exit when the loop has ended and /dev/fuse is
 * closed. Returns NULL, or an error message (then no loop runs and events are not used; a mount that
 * fuse_mount made is left for the caller to detach).
 */
const char *hl_mount(engine_t *e, const char *mount_point, const char *options, engine_events_t events);

#endif
