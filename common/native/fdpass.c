// Descriptor passing for hush's restart without errors (issue 11), loaded as part of hush_sys.node
// (sys.c's init calls hush_fdpass_init). Node cannot send or receive SCM_RIGHTS, so:
//  - sendFds(socketFd, fds, payload): one sendmsg with `payload` and `fds` as SCM_RIGHTS on a
//    connected AF_UNIX stream/seqpacket socket; returns the bytes sent (all of payload, or throws);
//  - recvFds(socketFd, maxFds, maxBytes, timeoutMs): poll(POLLIN) up to timeoutMs (0: no wait), then one
//    recvmsg(MSG_CMSG_CLOEXEC) -> { payload, fds }; works on SOCK_DGRAM too. More fds than maxFds,
//    MSG_CTRUNC or MSG_TRUNC throw EMSGSIZE after closing every fd received (nothing leaks);
//  - peerCredentials(socketFd): SO_PEERCRED -> { pid, uid, gid } of the peer at connect() time;
//  - sdNotifyWithFds(socket, message, fds): one datagram to the notify socket (path or '@abstract')
//    with fds as SCM_RIGHTS: sd_pid_notify_with_fds(0, 0, message, fds, n) without libsystemd;
//  - unixDatagramSocket(path): a bound AF_UNIX SOCK_DGRAM socket (tests stand in for systemd with it);
//  - setCloexec(fd): FD_CLOEXEC on fd (what sd_listen_fds does to inherited fds; EBADF if not open).
// These calls block the JS thread at most timeoutMs (recvFds) or for one local sendmsg: they are for
// small messages on local sockets the caller made ready. Sockets from libuv are non-blocking: a full
// send buffer is EAGAIN, thrown as such. Errors are Errors whose code is the errno name.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 253           /* SCM_MAX_FD */
#define MAX_BYTES (1 << 20)

static napi_value fd_throw(napi_env env, const char *what, int err) {
  const char *name = strerrorname_np(err);
  if (name == NULL) name = "EUNKNOWN";
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, name, strerror(err));
  napi_value code, message, error, num;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_throw(env, error);
  return NULL;
}

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* A non-negative int32 argument in [min, max]; -1 (TypeError thrown) otherwise. */
static int int_arg(napi_env env, napi_value v, int min, int max, const char *what) {
  napi_valuetype t = napi_undefined;
  double d = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      d != (double) (int) d || d < min || d > max) {
    type_error(env, what);
    return -1;
  }
  return (int) d;
}

/* Reads an array of fds into out[MAX_FDS]; returns the count or -1 (TypeError thrown). */
static int fds_arg(napi_env env, napi_value v, int *out, const char *what) {
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array || napi_get_array_length(env, v, &n) != napi_ok || n > MAX_FDS) {
    type_error(env, what);
    return -1;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    out[i] = int_arg(env, e, 0, 0x7fffffff, what);
    if (out[i] < 0) return -1;
  }
  return (int) n;
}

/* Fills the SCM_RIGHTS control message for fds (n may be 0: no control message). */
static void set_rights(struct msghdr *m, char *cbuf, const int *fds, int n) {
  if (n == 0) return;
  m->msg_control = cbuf;
  m->msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) n);
  struct cmsghdr *c = CMSG_FIRSTHDR(m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t) n);
}

static napi_value send_fds(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return type_error(env, "sendFds(socketFd, fds, payload): three arguments expected");
  int sock = int_arg(env, argv[0], 0, 0x7fffffff, "sendFds: socketFd must be a descriptor number");
  if (sock < 0) return NULL;
  int fds[MAX_FDS];
  int n = fds_arg(env, argv[1], fds, "sendFds: fds must be an array of at most 253 descriptor numbers");
  if (n < 0) return NULL;
  bool is_buffer = false;
  void *data = NULL;
  size_t len = 0;
  if (napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer) return type_error(env, "sendFds: payload must be a Buffer");
  napi_get_buffer_info(env, argv[2], &data, &len);
  /* A stream socket carries fds only with at least one byte of data. */
  if (len == 0 || len > MAX_BYTES) return type_error(env, "sendFds: payload must be 1 byte to 1 MiB");
  struct iovec iov = { data, len };
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  char *cbuf = n ? calloc(1, CMSG_SPACE(sizeof(int) * (size_t) n)) : NULL;
  if (n && cbuf == NULL) return fd_throw(env, "sendFds", ENOMEM);
  set_rights(&m, cbuf, fds, n);
  ssize_t sent;
  do sent = sendmsg(sock, &m, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
  int err = errno;
  free(cbuf);
  if (sent < 0) return fd_throw(env, "sendmsg SCM_RIGHTS", err);
  /* The fds went with the first byte; a short send would split our message: report it, never hide it. */
  if ((size_t) sent != len) return fd_throw(env, "sendmsg SCM_RIGHTS sent only part of the payload", EMSGSIZE);
  napi_value r;
  napi_create_int64(env, (int64_t) sent, &r);
  return r;
}

static napi_value recv_fds(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return type_error(env, "recvFds(socketFd, maxFds, maxBytes, timeoutMs?): three numbers expected");
  int sock = int_arg(env, argv[0], 0, 0x7fffffff, "recvFds: socketFd must be a descriptor number");
  if (sock < 0) return NULL;
  int max_fds = int_arg(env, argv[1], 0, MAX_FDS, "recvFds: maxFds must be 0 to 253");
  if (max_fds < 0) return NULL;
  int max_bytes = int_arg(env, argv[2], 1, MAX_BYTES, "recvFds: maxBytes must be 1 to 1048576");
  if (max_bytes < 0) return NULL;
  int timeout = 0;
  if (argc >= 4) {
    napi_valuetype t = napi_undefined;
    napi_typeof(env, argv[3], &t);
    if (t != napi_undefined && (timeout = int_arg(env, argv[3], 0, 600000, "recvFds: timeoutMs must be 0 to 600000")) < 0) return NULL;
  }
  struct pollfd p = { sock, POLLIN, 0 };
  int ready;
  do ready = poll(&p, 1, timeout); while (ready < 0 && errno == EINTR);
  if (ready < 0) return fd_throw(env, "poll", errno);
  if (ready == 0) return fd_throw(env, "recvFds: nothing to read", timeout ? ETIMEDOUT : EAGAIN);
  char *buf = malloc((size_t) max_bytes);
  /* One int more than allowed, so that a sender of too many fds is noticed even where CMSG_SPACE padding fits them. */
  size_t clen = CMSG_SPACE(sizeof(int) * (size_t) (max_fds + 1));
  char *cbuf = calloc(1, clen);
  if (buf == NULL || cbuf == NULL) {
    free(buf);
    free(cbuf);
    return fd_throw(env, "recvFds", ENOMEM);
  }
  struct iovec iov = { buf, (size_t) max_bytes };
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cbuf;
  m.msg_controllen = clen;
  ssize_t got;
  do got = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); while (got < 0 && errno == EINTR);
  if (got < 0) {
    int err = errno;
    free(buf);
    free(cbuf);
    return fd_throw(env, "recvmsg", err);
  }
  int fds[MAX_FDS + 2];
  int n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (n < MAX_FDS + 2) fds[n++] = fd;
      else close(fd);
    }
  }
  free(cbuf);
  const char *bad = NULL;
  if (m.msg_flags & MSG_CTRUNC || n > max_fds) bad = "recvmsg: the message carried more descriptors than allowed (closed those received)";
  else if (m.msg_flags & MSG_TRUNC) bad = "recvmsg: the datagram was longer than maxBytes (truncated; closed its descriptors)";
  if (bad) {
    for (int i = 0; i < n; i++) close(fds[i]);
    free(buf);
    return fd_throw(env, bad, EMSGSIZE);
  }
  napi_value result, payload, arr;
  napi_create_object(env, &result);
  napi_create_buffer_copy(env, (size_t) got, buf, NULL, &payload);
  free(buf);
  napi_create_array_with_length(env, (size_t) n, &arr);
  for (int i = 0; i < n; i++) {
    napi_value v;
    napi_create_int32(env, fds[i], &v);
    napi_set_element(env, arr, (uint32_t) i, v);
  }
  napi_set_named_property(env, result, "payload", payload);
  napi_set_named_property(env, result, "fds", arr);
  return result;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return type_error(env, "peerCredentials(socketFd): a descriptor number expected");
  int sock = int_arg(env, argv[0], 0, 0x7fffffff, "peerCredentials: socketFd must be a descriptor number");
  if (sock < 0) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return fd_throw(env, "getsockopt SO_PEERCRED", errno);
  napi_value r, v;
  napi_create_object(env, &r);
  napi_create_int64(env, cred.pid, &v);
  napi_set_named_property(env, r, "pid", v);
  napi_create_int64(env, cred.uid, &v);
  napi_set_named_property(env, r, "uid", v);
  napi_create_int64(env, cred.gid, &v);
  napi_set_named_property(env, r, "gid", v);
  return r;
}

/* Parses an absolute path or '@abstract' name into sa; 0, or -1 with a TypeError thrown. */
static int unix_address(napi_env env, napi_value v, struct sockaddr_un *sa, socklen_t *salen, const char *what) {
  char path[sizeof sa->sun_path + 2];
  size_t len = 0;
  napi_valuetype t = napi_undefined;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string ||
      napi_get_value_string_utf8(env, v, path, sizeof path, &len) != napi_ok || len < 2 ||
      len >= sizeof sa->sun_path || strlen(path) != len || (path[0] != '/' && path[0] != '@')) {
    type_error(env, what);
    return -1;
  }
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (path[0] == '@') { /* abstract: leading NUL, the length counts exactly, no terminator */
    memcpy(sa->sun_path + 1, path + 1, len - 1);
    *salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);
  } else {
    memcpy(sa->sun_path, path, len);
    *salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
  }
  return 0;
}

static napi_value sd_notify_with_fds(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return type_error(env, "sdNotifyWithFds(socket, message, fds): three arguments expected");
  struct sockaddr_un sa;
  socklen_t salen;
  if (unix_address(env, argv[0], &sa, &salen, "sdNotifyWithFds: socket must be an absolute path or @abstract name (at most 107 bytes)") < 0) return NULL;
  char msg[4096];
  size_t len = 0;
  napi_valuetype t = napi_undefined;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_string ||
      napi_get_value_string_utf8(env, argv[1], msg, sizeof msg, &len) != napi_ok || len == 0 || len >= sizeof msg - 1 || strlen(msg) != len)
    return type_error(env, "sdNotifyWithFds: message must be 1 to 4094 bytes without NUL");
  int fds[MAX_FDS];
  int n = fds_arg(env, argv[2], fds, "sdNotifyWithFds: fds must be an array of at most 253 descriptor numbers");
  if (n < 0) return NULL;
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return fd_throw(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
  struct iovec iov = { msg, len };
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_name = &sa;
  m.msg_namelen = salen;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  char *cbuf = n ? calloc(1, CMSG_SPACE(sizeof(int) * (size_t) n)) : NULL;
  if (n && cbuf == NULL) {
    close(sock);
    return fd_throw(env, "sdNotifyWithFds", ENOMEM);
  }
  set_rights(&m, cbuf, fds, n);
  ssize_t sent;
  do sent = sendmsg(sock, &m, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
  int err = errno;
  close(sock);
  free(cbuf);
  if (sent < 0) return fd_throw(env, "sendmsg $NOTIFY_SOCKET", err);
  return NULL;
}

static napi_value unix_datagram_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return type_error(env, "unixDatagramSocket(path): a path expected");
  struct sockaddr_un sa;
  socklen_t salen;
  if (unix_address(env, argv[0], &sa, &salen, "unixDatagramSocket: path must be an absolute path or @abstract name (at most 107 bytes)") < 0) return NULL;
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return fd_throw(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
  if (bind(sock, (struct sockaddr *) &sa, salen) != 0) {
    int err = errno;
    close(sock);
    return fd_throw(env, "bind AF_UNIX datagram socket", err);
  }
  napi_value r;
  napi_create_int32(env, sock, &r);
  return r;
}

static napi_value set_cloexec(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return type_error(env, "setCloexec(fd): a descriptor number expected");
  int fd = int_arg(env, argv[0], 0, 0x7fffffff, "setCloexec: fd must be a descriptor number");
  if (fd < 0) return NULL;
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return fd_throw(env, "fcntl F_GETFD", errno);
  if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) return fd_throw(env, "fcntl F_SETFD FD_CLOEXEC", errno);
  return NULL;
}

void hush_fdpass_init(napi_env env, napi_value exports) {
  static const struct { const char *name; napi_callback fn; } fns[] = {
    { "sendFds", send_fds }, { "recvFds", recv_fds }, { "peerCredentials", peer_credentials },
    { "sdNotifyWithFds", sd_notify_with_fds }, { "unixDatagramSocket", unix_datagram_socket }, { "setCloexec", set_cloexec },
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
}
