// The system calls the agent and the manager need and Node cannot make, without exec (common/native.ts
// loads this addon as nativeSys()):
//  - detachUnmount(path): umount2(path, MNT_DETACH), i.e. `fusermount -uz` without a child process
//    (fuse-native's own unmount execs fusermount, and the FUSE process must never spawn children);
//  - cloexecFuseFds(): sets FD_CLOEXEC on every descriptor of /dev/fuse this process holds
//    (libfuse2 gets it without O_CLOEXEC; a child that inherits it keeps the connection alive
//    after the daemon dies and accesses hang), and on every socket that lacks it (libfuse2's
//    auto_unmount control socket to its fusermount helper is one: a child holding it would delay
//    the auto-unmount; Node's own sockets are already close-on-exec). Returns how many it marked.
//  - bindMount(source, target, readonly): mount(source, target, NULL, MS_BIND, NULL), then (readonly)
//    a bind remount MS_RDONLY|MS_NOSUID|MS_NODEV of the new mount (undone if that remount fails). ASYNC:
//    it runs on a libuv threadpool thread and returns a Promise. The agent binds paths of its OWN FUSE
//    mount: resolving <mount>/<task> sends FUSE LOOKUP/GETATTR requests that only this process's JS
//    thread answers, so the syscall must never run on the JS thread (it would deadlock);
//  - detachUnmountAsync(path): detachUnmount on a threadpool thread (a Promise), for the same reason;
//  - setPropagation(path, 'private' | 'shared' | 'slave'): mount(NULL, path, NULL, MS_PRIVATE / MS_SHARED /
//    MS_SLAVE, NULL) on an existing mount point (the anchor directory: never a path of the FUSE mount);
//  - sdNotify(socket, message): sd_notify(3) without libsystemd and without exec (systemd-notify is a
//    child process): one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET ('@' = abstract).
//    The kernel attaches this process's credentials, which is how systemd (NotifyAccess=main) tells
//    that the main PID sent it.
//  - noCoreDumps(): setrlimit(RLIMIT_CORE, 0) and prctl(PR_SET_DUMPABLE, 0): the agent holds secret
//    payloads in memory, so it never writes a core dump (and /proc/<pid>/mem is root-only).
// Errors are thrown as Error objects whose code is the errno name (EINVAL, EPERM, ...).
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value errno_error(napi_env env, const char *what, int err) {
  const char *name = strerrorname_np(err);
  if (name == NULL) name = "EUNKNOWN";
  char msg[4400];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, name, strerror(err));
  napi_value code, message, error, num;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  return error;
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  napi_throw(env, errno_error(env, what, err));
  return NULL;
}

static napi_value detach_unmount(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, NULL, "detachUnmount(path): path must be a string");
    return NULL;
  }
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], NULL, 0, &len);
  if (len == 0 || len >= 4096) {
    napi_throw_type_error(env, NULL, "detachUnmount(path): path must be 1 to 4095 bytes");
    return NULL;
  }
  char *path = malloc(len + 1);
  if (path == NULL) return throw_errno(env, "detachUnmount", ENOMEM);
  napi_get_value_string_utf8(env, argv[0], path, len + 1, &len);
  if (strlen(path) != len) { // an embedded NUL would unmount another path
    free(path);
    napi_throw_type_error(env, NULL, "detachUnmount(path): path contains a NUL byte");
    return NULL;
  }
  // UMOUNT_NOFOLLOW: never follow a symlink planted at the mount point.
  int res = umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
  int err = errno;
  free(path);
  if (res != 0) return throw_errno(env, "umount2", err);
  return NULL;
}

static napi_value cloexec_fuse_fds(napi_env env, napi_callback_info info) {
  (void) info;
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return throw_errno(env, "opendir /proc/self/fd", errno);
  int self = dirfd(dir);
  int marked = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    if (*e->d_name == '\0' || *end != '\0' || fd == self) continue;
    char target[64];
    ssize_t n = readlinkat(self, e->d_name, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (strcmp(target, "/dev/fuse") != 0 && strncmp(target, "socket:", 7) != 0) continue;
    int flags = fcntl((int) fd, F_GETFD);
    if (flags < 0) continue;
    if (!(flags & FD_CLOEXEC)) {
      if (fcntl((int) fd, F_SETFD, flags | FD_CLOEXEC) == 0) marked++;
    }
  }
  closedir(dir);
  napi_value result;
  napi_create_int32(env, marked, &result);
  return result;
}

/* Reads argument `i` as a UTF-8 string into a malloc'd buffer; NULL (with a TypeError thrown) if not a string
   of 1 to max-1 bytes without a NUL. */
static char *string_arg(napi_env env, napi_value v, size_t max, const char *what) {
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  if (len == 0 || len >= max) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return s;
}

static napi_value sd_notify_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "sdNotify(socket, message): two strings expected");
    return NULL;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  char *path = string_arg(env, argv[0], sizeof sa.sun_path + 1, "sdNotify: socket must be a path or @abstract name of at most 108 bytes");
  if (path == NULL) return NULL;
  char *msg = string_arg(env, argv[1], 4096, "sdNotify: message must be 1 to 4095 bytes without NUL");
  if (msg == NULL) {
    free(path);
    return NULL;
  }
  size_t plen = strlen(path);
  socklen_t salen;
  if (path[0] == '@') { /* abstract namespace: leading NUL, no terminator, length counts exactly */
    memcpy(sa.sun_path + 1, path + 1, plen - 1);
    salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + plen);
  } else if (path[0] == '/' && plen < sizeof sa.sun_path) {
    memcpy(sa.sun_path, path, plen);
    salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + plen + 1);
  } else {
    free(path);
    free(msg);
    napi_throw_type_error(env, NULL, "sdNotify: socket must be an absolute path or an @abstract name (at most 107 bytes)");
    return NULL;
  }
  free(path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    free(msg);
    return throw_errno(env, "socket(AF_UNIX, SOCK_DGRAM)", err);
  }
  ssize_t n;
  do {
    n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *) &sa, salen);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  free(msg);
  if (n < 0) return throw_errno(env, "sendto $NOTIFY_SOCKET", err);
  return NULL;
}

/* ---- mount operations off the JS thread (napi async work on the libuv threadpool) ---- */

enum mount_op { OP_BIND, OP_DETACH };

struct mount_work {
  napi_async_work work;
  napi_deferred deferred;
  enum mount_op op;
  int readonly;
  char *source;
  char *target;
  int err;           /* errno of the failed call; 0 on success */
  char what[8320];   /* which call failed, with its paths */
};

static void mount_work_execute(napi_env env, void *data) {
  (void) env;
  struct mount_work *w = data;
  if (w->op == OP_DETACH) {
    if (umount2(w->target, MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
      w->err = errno;
      snprintf(w->what, sizeof w->what, "umount2 %s", w->target);
    }
    return;
  }
  if (mount(w->source, w->target, NULL, MS_BIND, NULL) != 0) {
    w->err = errno;
    snprintf(w->what, sizeof w->what, "mount --bind %s %s", w->source, w->target);
    return;
  }
  if (!w->readonly) return;
  /* Per-mount flags of the new bind (a bind remount changes only this mount, not the file system). */
  if (mount(NULL, w->target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0) {
    w->err = errno;
    snprintf(w->what, sizeof w->what, "mount -o remount,bind,ro %s", w->target);
    /* Never leave a bind that could be writable. */
    umount2(w->target, MNT_DETACH | UMOUNT_NOFOLLOW);
  }
}

static void mount_work_complete(napi_env env, napi_status status, void *data) {
  struct mount_work *w = data;
  if (status != napi_ok && w->err == 0) {
    w->err = ECANCELED;
    snprintf(w->what, sizeof w->what, "mount work");
  }
  if (w->err != 0) {
    napi_reject_deferred(env, w->deferred, errno_error(env, w->what, w->err));
  } else {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, w->deferred, undef);
  }
  napi_delete_async_work(env, w->work);
  free(w->source);
  free(w->target);
  free(w);
}

/* Queues `w` (owning its strings) and returns its promise; frees it and returns NULL on failure. */
static napi_value queue_mount_work(napi_env env, struct mount_work *w, const char *name) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) goto fail;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_async_work(env, NULL, resource_name, mount_work_execute, mount_work_complete, w, &w->work) != napi_ok) goto fail_promise;
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    goto fail_promise;
  }
  return promise;
fail_promise:
  {
    napi_value err;
    napi_value msg;
    napi_create_string_utf8(env, "cannot queue the mount work", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
    free(w->source);
    free(w->target);
    free(w);
    return promise;
  }
fail:
  free(w->source);
  free(w->target);
  free(w);
  napi_throw_error(env, NULL, "cannot create a promise");
  return NULL;
}

static napi_value bind_mount(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "bindMount(source, target, readonly?): two paths expected");
    return NULL;
  }
  bool readonly = false;
  if (argc >= 3) {
    napi_valuetype type = napi_undefined;
    napi_typeof(env, argv[2], &type);
    if (type == napi_boolean) napi_get_value_bool(env, argv[2], &readonly);
    else if (type != napi_undefined) {
      napi_throw_type_error(env, NULL, "bindMount: readonly must be a boolean");
      return NULL;
    }
  }
  char *source = string_arg(env, argv[0], 4096, "bindMount: source must be a path of 1 to 4095 bytes without NUL");
  if (source == NULL) return NULL;
  char *target = string_arg(env, argv[1], 4096, "bindMount: target must be a path of 1 to 4095 bytes without NUL");
  if (target == NULL) {
    free(source);
    return NULL;
  }
  struct mount_work *w = calloc(1, sizeof *w);
  if (w == NULL) {
    free(source);
    free(target);
    return throw_errno(env, "bindMount", ENOMEM);
  }
  w->op = OP_BIND;
  w->readonly = readonly;
  w->source = source;
  w->target = target;
  return queue_mount_work(env, w, "hush:bindMount");
}

static napi_value detach_unmount_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "detachUnmountAsync(path): a path expected");
    return NULL;
  }
  char *target = string_arg(env, argv[0], 4096, "detachUnmountAsync: path must be 1 to 4095 bytes without NUL");
  if (target == NULL) return NULL;
  struct mount_work *w = calloc(1, sizeof *w);
  if (w == NULL) {
    free(target);
    return throw_errno(env, "detachUnmountAsync", ENOMEM);
  }
  w->op = OP_DETACH;
  w->target = target;
  return queue_mount_work(env, w, "hush:detachUnmount");
}

static napi_value set_propagation(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "setPropagation(path, 'private' | 'shared' | 'slave'): two strings expected");
    return NULL;
  }
  char *kind = string_arg(env, argv[1], 16, "setPropagation: kind must be 'private', 'shared' or 'slave'");
  if (kind == NULL) return NULL;
  unsigned long flag;
  if (strcmp(kind, "private") == 0) flag = MS_PRIVATE;
  else if (strcmp(kind, "shared") == 0) flag = MS_SHARED;
  else if (strcmp(kind, "slave") == 0) flag = MS_SLAVE;
  else {
    free(kind);
    napi_throw_type_error(env, NULL, "setPropagation: kind must be 'private', 'shared' or 'slave'");
    return NULL;
  }
  free(kind);
  char *path = string_arg(env, argv[0], 4096, "setPropagation: path must be 1 to 4095 bytes without NUL");
  if (path == NULL) return NULL;
  int res = mount(NULL, path, NULL, flag, NULL);
  int err = errno;
  char what[4200];
  snprintf(what, sizeof what, "mount --make-%s %s", flag == MS_PRIVATE ? "private" : flag == MS_SHARED ? "shared" : "slave", path);
  free(path);
  if (res != 0) return throw_errno(env, what, err);
  return NULL;
}

static napi_value no_core_dumps(napi_env env, napi_callback_info info) {
  (void) info;
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return throw_errno(env, "setrlimit RLIMIT_CORE", errno);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return throw_errno(env, "prctl PR_SET_DUMPABLE", errno);
  return NULL;
}

void hush_fdpass_init(napi_env env, napi_value exports); /* fdpass.c: SCM_RIGHTS, SO_PEERCRED */

NAPI_MODULE_INIT() {
  napi_value fn;
  hush_fdpass_init(env, exports);
  napi_create_function(env, "detachUnmount", NAPI_AUTO_LENGTH, detach_unmount, NULL, &fn);
  napi_set_named_property(env, exports, "detachUnmount", fn);
  napi_create_function(env, "cloexecFuseFds", NAPI_AUTO_LENGTH, cloexec_fuse_fds, NULL, &fn);
  napi_set_named_property(env, exports, "cloexecFuseFds", fn);
  napi_create_function(env, "noCoreDumps", NAPI_AUTO_LENGTH, no_core_dumps, NULL, &fn);
  napi_set_named_property(env, exports, "noCoreDumps", fn);
  napi_create_function(env, "sdNotify", NAPI_AUTO_LENGTH, sd_notify_send, NULL, &fn);
  napi_set_named_property(env, exports, "sdNotify", fn);
  napi_create_function(env, "bindMount", NAPI_AUTO_LENGTH, bind_mount, NULL, &fn);
  napi_set_named_property(env, exports, "bindMount", fn);
  napi_create_function(env, "detachUnmountAsync", NAPI_AUTO_LENGTH, detach_unmount_async, NULL, &fn);
  napi_set_named_property(env, exports, "detachUnmountAsync", fn);
  napi_create_function(env, "setPropagation", NAPI_AUTO_LENGTH, set_propagation, NULL, &fn);
  napi_set_named_property(env, exports, "setPropagation", fn);
  return exports;
}
