// hush's native FUSE engine, the default one: the N-API entry points. Each call decodes its JS
// arguments into C (hushfs_tree.h's rows), then calls the layer below. The API (arguments, results,
// guarantees) is documented once, in HushFsAddon (fs/engines/native-addon.ts).
//
// The layers: hushfs_map (containers), hushfs_state (the refcounted state and its threads),
// hushfs_tree (a change of the served tree, on C rows), hushfs_hl (FUSE operations, loop, mount; or
// hushfs_ll, the same on libfuse's low-level API, by mountLowLevel).
//
// Secret bytes: putBlob copies a Buffer's bytes straight into the blob (no other copy); the Buffer
// stays the caller's. Nothing else passed in holds a secret value.
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hushfs_hl.h"
#include "hushfs_ll.h"
#include "hushfs_state.h"
#include "hushfs_tree.h"

/* ---- decoding ---- */

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value throw_in(napi_env env, const char *fn, const char *msg) {
  char text[320];
  snprintf(text, sizeof text, "hushfs.%s: %s", fn, msg);
  return throw_msg(env, text);
}

typedef enum { STR_OK, STR_NOT_STRING, STR_NUL, STR_NO_MEMORY } str_t;

/* A malloc'ed copy of a JS string without NUL. */
static str_t get_str(napi_env env, napi_value v, char **out) {
  *out = NULL;
  napi_valuetype t;
  size_t len = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return STR_NOT_STRING;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return STR_NOT_STRING;
  char *s = malloc(len + 1);
  if (!s) return STR_NO_MEMORY;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    return STR_NUL;
  }
  *out = s;
  return STR_OK;
}

static char *get_string(napi_env env, napi_value v) {
  char *s;
  return get_str(env, v, &s) == STR_OK ? s : NULL;
}

/* A string field of a row: NULL, or `bad` (a NUL: `nul`; out of memory). */
static const char *get_field(napi_env env, napi_value v, char **out, const char *bad, const char *nul) {
  switch (get_str(env, v, out)) {
    case STR_OK: return NULL;
    case STR_NUL: return nul;
    case STR_NO_MEMORY: return "out of memory";
    default: return bad;
  }
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 4294967295.0)) return -1;
  *out = (uint32_t) d;
  return 0;
}

static int get_ms(napi_env env, napi_value v, struct timespec *ts) {
  int64_t ms;
  if (napi_get_value_int64(env, v, &ms) != napi_ok) return -1;
  if (ms < 0) ms = 0;
  ts->tv_sec = (time_t) (ms / 1000);
  ts->tv_nsec = (long) ((ms % 1000) * 1000000);
  return 0;
}

/* A root order key: an integer a double holds exactly (this also refuses NaN). */
static int get_key(napi_env env, napi_value v, double *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 9007199254740992.0)) return -1;
  *out = d;
  return 0;
}

static engine_t *get_engine(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

/* An array's length, with room for that many elements of `size` bytes (zeroed) at *out. */
static const char *get_array(napi_env env, napi_value v, uint32_t *len, size_t size, void **out, const char *bad) {
  bool is_array = false;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array || napi_get_array_length(env, v, len) != napi_ok) return bad;
  *out = calloc(*len ? *len : 1, size);
  return *out ? NULL : "out of memory";
}

static napi_value element(napi_env env, napi_value arr, uint32_t i) {
  napi_value v;
  napi_get_element(env, arr, i, &v);
  return v;
}

#define NAME_NUL "a name is not " ONE_COMPONENT

static const char *decode_strings(napi_env env, napi_value v, char ***out, size_t *n, const char *bad, const char *nul) {
  uint32_t len;
  const char *err = get_array(env, v, &len, sizeof **out, (void **) out, bad);
  for (uint32_t i = 0; !err && i < len; i++) {
    *n = i + 1;
    err = get_field(env, element(env, v, i), &(*out)[i], bad, nul);
  }
  return err;
}

static const char *decode_keys(napi_env env, napi_value v, change_t *c) {
  const char *bad = "rootRemoved must be keys";
  uint32_t len;
  const char *err = get_array(env, v, &len, sizeof *c->root_removed, (void **) &c->root_removed, bad);
  for (uint32_t i = 0; !err && i < len; i++) {
    c->n_root_removed = i + 1;
    if (get_key(env, element(env, v, i), &c->root_removed[i]) != 0) err = bad;
  }
  return err;
}

/* [key, name][] */
static const char *decode_root(napi_env env, napi_value v, change_t *c) {
  const char *bad = "a root entry must be [key, name]";
  uint32_t len, n;
  const char *err = get_array(env, v, &len, sizeof *c->root_added, (void **) &c->root_added, "the root entries must be [key, name][]");
  for (uint32_t i = 0; !err && i < len; i++) {
    c->n_root_added = i + 1;
    napi_value item = element(env, v, i);
    bool is_array = false;
    napi_is_array(env, item, &is_array);
    if (!is_array || napi_get_array_length(env, item, &n) != napi_ok || n != 2 || get_key(env, element(env, item, 0), &c->root_added[i].key) != 0) err = bad;
    else err = get_field(env, element(env, item, 1), &c->root_added[i].name, bad, NAME_NUL);
  }
  return err;
}

/* A row [path, uid, gid, mode, mtimeMs, ...]: its array, and the common fields. */
static const char *decode_row_head(napi_env env, napi_value row, uint32_t want, char **path, uint32_t *ids, struct timespec *mtime, const char *bad) {
  bool is_array = false;
  uint32_t len;
  if (napi_is_array(env, row, &is_array) != napi_ok || !is_array || napi_get_array_length(env, row, &len) != napi_ok || len != want) return bad;
  const char *err = get_field(env, element(env, row, 0), path, bad, NAME_NUL);
  if (err) return err;
  for (uint32_t i = 0; i < 3; i++)
    if (get_u32(env, element(env, row, i + 1), &ids[i]) != 0) return bad;
  return get_ms(env, element(env, row, 4), mtime) != 0 ? bad : NULL;
}

/* dirs: [path, uid, gid, mode, mtimeMs, names][]; files: [path, uid, gid, mode, mtimeMs, bindingKey, blobId][] */
static const char *decode_rows(napi_env env, napi_value dirs, napi_value files, change_t *c) {
  const char *bad_dir = "a dir must be [path, uid, gid, mode, mtimeMs, names]";
  const char *bad_file = "a file must be [path, uid, gid, mode, mtimeMs, bindingKey, blobId]";
  uint32_t len, ids[3];
  const char *err = get_array(env, dirs, &len, sizeof *c->dirs, (void **) &c->dirs, "dirs must be an array");
  for (uint32_t i = 0; !err && i < len; i++) {
    c->n_dirs = i + 1;
    dir_row_t *d = &c->dirs[i];
    napi_value row = element(env, dirs, i);
    err = decode_row_head(env, row, 6, &d->path, ids, &d->mtime, bad_dir);
    if (err) break;
    d->uid = ids[0], d->gid = ids[1], d->mode = ids[2];
    err = decode_strings(env, element(env, row, 5), &d->names, &d->nnames, bad_dir, NAME_NUL);
  }
  if (!err) err = get_array(env, files, &len, sizeof *c->files, (void **) &c->files, "files must be an array");
  for (uint32_t i = 0; !err && i < len; i++) {
    c->n_files = i + 1;
    file_row_t *f = &c->files[i];
    napi_value row = element(env, files, i);
    err = decode_row_head(env, row, 7, &f->path, ids, &f->mtime, bad_file);
    if (err) break;
    f->uid = ids[0], f->gid = ids[1], f->mode = ids[2];
    err = get_field(env, element(env, row, 5), &f->binding, bad_file, bad_file);
    if (!err) err = get_field(env, element(env, row, 6), &f->blob, bad_file, bad_file);
  }
  return err;
}

/* Applies a decoded change (or the decoding error); returns the files left out, or throws. */
static napi_value apply_change(napi_env env, const char *fn, engine_t *e, change_t *c, const char *err) {
  uint32_t missing = 0;
  if (!err) err = tree_change(e, c, &missing);
  change_free(c);
  if (err) return throw_in(env, fn, err);
  napi_value result;
  napi_create_uint32(env, missing, &result);
  return result;
}

/* ---- entry points (see HushFsAddon) ---- */

static void engine_finalize(napi_env env, void *data, void *hint) {
  (void) env;
  (void) hint;
  engine_unref(data);
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ext;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct timespec root_time;
  if (argc < 1 || get_ms(env, argv[0], &root_time) != 0) return throw_msg(env, "hushfs.create(rootTimeMs): a number expected");
  engine_t *e = engine_new(root_time);
  if (!e) return throw_msg(env, "hushfs.create: out of memory");
  if (napi_create_external(env, e, engine_finalize, NULL, &ext) != napi_ok) {
    engine_unref(e);
    return throw_msg(env, "hushfs.create: cannot create the engine object");
  }
  return ext;
}

static napi_value js_put_blob(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 3 ? get_engine(env, argv[0]) : NULL;
  bool is_buf = false;
  if (e) napi_is_buffer(env, argv[2], &is_buf);
  if (!e || !is_buf) return throw_msg(env, "hushfs.putBlob(engine, id, buffer): bad arguments");
  char *id = get_string(env, argv[1]);
  if (!id) return throw_msg(env, "hushfs.putBlob: id must be a string without NUL");
  void *src = NULL;
  size_t len = 0;
  napi_get_buffer_info(env, argv[2], &src, &len);
  blob_t *b = blob_new(e, src, len);
  int err = b ? engine_put_blob(e, id, b) : -1;
  free(id);
  if (err != 0) {
    if (b) blob_unref(b); /* zeroes the copy */
    return throw_msg(env, "hushfs.putBlob: out of memory");
  }
  napi_value locked;
  napi_get_boolean(env, b->locked, &locked); /* b is held by the id now */
  return locked;
}

static napi_value js_drop_blob(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 2 ? get_engine(env, argv[0]) : NULL;
  char *id = e ? get_string(env, argv[1]) : NULL;
  if (!id) return throw_msg(env, "hushfs.dropBlob(engine, id): bad arguments");
  engine_drop_blob(e, id);
  free(id);
  return NULL;
}

static napi_value js_set_tree(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 5 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_msg(env, "hushfs.setTree(engine, root, dirs, files, liveBindings): bad arguments");
  change_t c = { .replace = true };
  const char *err = decode_root(env, argv[1], &c);
  if (!err) err = decode_rows(env, argv[2], argv[3], &c);
  if (!err) err = decode_strings(env, argv[4], &c.bindings, &c.n_bindings, "liveBindings must be strings", "liveBindings must be strings without NUL");
  return apply_change(env, "setTree", e, &c, err);
}

static napi_value js_update_tree(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 7 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_msg(env, "hushfs.updateTree(engine, rootRemoved, rootAdded, dirPaths, dirs, files, revokedBindings): bad arguments");
  change_t c = { .replace = false };
  const char *err = decode_keys(env, argv[1], &c);
  if (!err) err = decode_root(env, argv[2], &c);
  if (!err) err = decode_strings(env, argv[3], &c.dir_paths, &c.n_dir_paths, "dirPaths must be strings", NAME_NUL);
  if (!err) err = decode_rows(env, argv[4], argv[5], &c);
  if (!err) err = decode_strings(env, argv[6], &c.bindings, &c.n_bindings, "revokedBindings must be strings", "revokedBindings must be strings without NUL");
  return apply_change(env, "updateTree", e, &c, err);
}

/*
 * Events to JS ("init", "exit") through a threadsafe function, guarded against the environment's
 * teardown. After unref (or process.exit) Node may tear the environment down, and free the function,
 * while the loop thread still runs: a call then aborted the process in uv_mutex_lock (seen ~1 run in 40
 * of "a process that mounted, served and unmounted exits by itself"). An env cleanup hook, registered
 * after the function so that it runs before the function's own, marks the environment gone under
 * `lock`; the loop thread calls only while it is not. The block is freed by whichever of the three
 * (the "exit" call on the JS thread, the hook, the loop thread) is last to need it.
 */
typedef struct {
  napi_threadsafe_function tsfn;
  pthread_mutex_t lock;
  bool env_gone;  /* the cleanup hook ran: never call tsfn again */
  bool loop_done; /* the loop thread is done with this block */
} events_t;

static void events_free(events_t *ev) {
  pthread_mutex_destroy(&ev->lock);
  free(ev);
}

static void on_env_cleanup(void *arg) {
  events_t *ev = arg;
  pthread_mutex_lock(&ev->lock);
  ev->env_gone = true;
  bool done = ev->loop_done;
  pthread_mutex_unlock(&ev->lock);
  if (done) events_free(ev); /* the queued "exit" (if any) is dropped with env NULL: call_js skips it */
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  events_t *ev = context;
  if (env == NULL || js_cb == NULL) return; /* teardown: the hook frees ev */
  bool exiting = strcmp(data, "exit") == 0;
  napi_value undef, arg;
  napi_get_undefined(env, &undef);
  napi_create_string_utf8(env, data, NAPI_AUTO_LENGTH, &arg);
  napi_call_function(env, undef, js_cb, 1, &arg, NULL);
  if (!exiting) return;
  /* The loop thread queued this, then let go of ev under the lock: wait for that, then nobody else needs it. */
  napi_remove_env_cleanup_hook(env, on_env_cleanup, ev);
  pthread_mutex_lock(&ev->lock);
  pthread_mutex_unlock(&ev->lock);
  events_free(ev);
}

static void event_init(void *arg) {
  events_t *ev = arg;
  pthread_mutex_lock(&ev->lock);
  if (!ev->env_gone) napi_call_threadsafe_function(ev->tsfn, (void *) "init", napi_tsfn_nonblocking);
  pthread_mutex_unlock(&ev->lock);
}

static void event_exit(void *arg) {
  events_t *ev = arg;
  pthread_mutex_lock(&ev->lock);
  bool gone = ev->env_gone;
  if (!gone) {
    /* Nonblocking: the queue is unbounded, and the JS thread may be waiting for this lock in the hook. */
    napi_call_threadsafe_function(ev->tsfn, (void *) "exit", napi_tsfn_nonblocking);
    napi_release_threadsafe_function(ev->tsfn, napi_tsfn_release);
  }
  ev->loop_done = true;
  pthread_mutex_unlock(&ev->lock);
  if (gone) events_free(ev);
}

/* mount and mountLowLevel: the same arguments and events; `mount_fn` is hl_mount or ll_mount. */
static napi_value mount_with(napi_env env, napi_callback_info info, const char *fn,
                             const char *(*mount_fn)(engine_t *, const char *, const char *, engine_events_t)) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 4 ? get_engine(env, argv[0]) : NULL;
  napi_valuetype cbt = napi_undefined;
  if (e) napi_typeof(env, argv[3], &cbt);
  if (!e || cbt != napi_function) {
    char text[128];
    snprintf(text, sizeof text, "hushfs.%s(engine, mountPoint, options, onEvent): bad arguments", fn);
    return throw_msg(env, text);
  }
  if (e->mounted) return throw_in(env, fn, "this engine has already mounted");
  char *mnt = get_string(env, argv[1]);
  char *opts = get_string(env, argv[2]);
  events_t *ev = calloc(1, sizeof *ev);
  napi_value name;
  const char *err = NULL;
  if (!mnt || !opts) err = "mountPoint and options must be strings";
  else if (!ev || pthread_mutex_init(&ev->lock, NULL) != 0) {
    free(ev);
    ev = NULL;
    err = "out of memory";
  } else if (napi_create_string_utf8(env, "hushfs", NAPI_AUTO_LENGTH, &name) != napi_ok ||
             napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, ev, call_js, &ev->tsfn) != napi_ok) {
    events_free(ev);
    err = "cannot create the event function";
  } else if (napi_add_env_cleanup_hook(env, on_env_cleanup, ev) != napi_ok) {
    napi_release_threadsafe_function(ev->tsfn, napi_tsfn_abort);
    err = "cannot add the cleanup hook"; /* ev is left: the aborted function may still hold it */
  } else if ((err = mount_fn(e, mnt, opts, (engine_events_t) { .on_init = event_init, .on_exit = event_exit, .ctx = ev })) != NULL) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, ev);
    napi_release_threadsafe_function(ev->tsfn, napi_tsfn_abort);
    /* ev is left to the aborted function's teardown (a few bytes, on a failed mount only) */
  }
  free(mnt);
  free(opts);
  return err ? throw_in(env, fn, err) : NULL;
}

static napi_value js_mount(napi_env env, napi_callback_info info) { return mount_with(env, info, "mount", hl_mount); }

static napi_value js_mount_low_level(napi_env env, napi_callback_info info) { return mount_with(env, info, "mountLowLevel", ll_mount); }

static napi_value js_unref(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 1 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_msg(env, "hushfs.unref(engine): bad arguments");
  /* The loop thread releases the function only after its "exit" call, which runs on this thread. */
  if (e->mounted && __atomic_load_n(&e->loop_running, __ATOMIC_ACQUIRE)) napi_unref_threadsafe_function(env, ((events_t *) e->events.ctx)->tsfn);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine_t *e = argc == 1 ? get_engine(env, argv[0]) : NULL;
  if (!e) return throw_msg(env, "hushfs.stats(engine): bad arguments");
  napi_value obj, running;
  napi_create_object(env, &obj);
  set_num(env, obj, "blobs", (double) e->blobs.count);
  pthread_mutex_lock(&e->blob_mutex);
  set_num(env, obj, "liveBlobs", (double) e->blob_count);
  pthread_mutex_unlock(&e->blob_mutex);
  set_num(env, obj, "handles", (double) __atomic_load_n(&e->handle_count, __ATOMIC_RELAXED));
  set_num(env, obj, "bindings", (double) e->bindings.count);
  set_num(env, obj, "mlockFailures", (double) __atomic_load_n(&e->mlock_failures, __ATOMIC_RELAXED));
  set_num(env, obj, "mlockErrno", (double) __atomic_load_n(&e->mlock_errno, __ATOMIC_RELAXED));
  napi_get_boolean(env, __atomic_load_n(&e->loop_running, __ATOMIC_ACQUIRE) != 0, &running);
  napi_set_named_property(env, obj, "running", running);
  return obj;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "create", js_create },
    { "putBlob", js_put_blob },
    { "dropBlob", js_drop_blob },
    { "setTree", js_set_tree },
    { "updateTree", js_update_tree },
    { "mount", js_mount },
    { "mountLowLevel", js_mount_low_level },
    { "unref", js_unref },
    { "stats", js_stats },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
  return exports;
}
