/*
 * The read bench's reference FUSE file system (bench/read.ts): the smallest libfuse2 high-level
 * file system serving what a hush node serves for one task, so that the same open+read+close
 * costs the same kernel requests in both:
 *
 *   /                 root:root 0755
 *   /task.1/          root:root 0500   (hush: the task's directory)
 *   /task.1/secret    root:root 0400, 64 bytes
 *
 * Built by the bench: gcc -O2 -Wall -o hello hello.c $(pkg-config --cflags --libs fuse)
 * Run:   hello MOUNTPOINT -f -o ro,direct_io,entry_timeout=0,attr_timeout=0,negative_timeout=0,...
 * (multi-threaded, fuse_main's default, as fuse-native's fuse_loop_mt).
 *
 * It counts the requests it answers per operation; SIGUSR1 prints the counters as one JSON line
 * on stderr, so the bench can tell how many FUSE requests one open+read+close costs.
 */
#define FUSE_USE_VERSION 26
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *DIR_PATH = "/task.1";
static const char *FILE_PATH = "/task.1/secret";
static const char *FILE_NAME = "secret";
static char content[64];
static time_t start_time;

enum { C_GETATTR, C_READDIR, C_OPEN, C_READ, C_RELEASE, C_COUNT };
static const char *names[C_COUNT] = { "getattr", "readdir", "open", "read", "release" };
static unsigned long counters[C_COUNT];
#define COUNT(c) __atomic_fetch_add(&counters[c], 1, __ATOMIC_RELAXED)

static int hello_getattr(const char *path, struct stat *st) {
  COUNT(C_GETATTR);
  memset(st, 0, sizeof *st);
  st->st_atime = st->st_mtime = st->st_ctime = start_time;
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else if (strcmp(path, DIR_PATH) == 0) {
    st->st_mode = S_IFDIR | 0500;
    st->st_nlink = 2;
  } else if (strcmp(path, FILE_PATH) == 0) {
    st->st_mode = S_IFREG | 0400;
    st->st_nlink = 1;
    st->st_size = sizeof content;
    st->st_blksize = 4096;
    st->st_blocks = 1;
  } else {
    return -ENOENT;
  }
  return 0;
}

static int hello_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi) {
  (void)off;
  (void)fi;
  COUNT(C_READDIR);
  if (strcmp(path, "/") == 0) {
    filler(buf, ".", NULL, 0);
    filler(buf, "..", NULL, 0);
    filler(buf, DIR_PATH + 1, NULL, 0);
    return 0;
  }
  if (strcmp(path, DIR_PATH) == 0) {
    filler(buf, ".", NULL, 0);
    filler(buf, "..", NULL, 0);
    filler(buf, FILE_NAME, NULL, 0);
    return 0;
  }
  return -ENOENT;
}

static int hello_open(const char *path, struct fuse_file_info *fi) {
  COUNT(C_OPEN);
  if (strcmp(path, FILE_PATH) != 0) return -ENOENT;
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  fi->fh = 1;
  return 0;
}

static int hello_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  COUNT(C_READ);
  if (strcmp(path, FILE_PATH) != 0) return -ENOENT;
  if (off >= (off_t)sizeof content) return 0;
  size_t n = sizeof content - (size_t)off;
  if (n > size) n = size;
  memcpy(buf, content + off, n);
  return (int)n;
}

static int hello_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  (void)fi;
  COUNT(C_RELEASE);
  return 0;
}

static void print_counters(int sig) {
  (void)sig;
  char line[256];
  int len = snprintf(line, sizeof line, "{\"counters\":{");
  for (int i = 0; i < C_COUNT; i++) {
    len += snprintf(line + len, sizeof line - (size_t)len, "%s\"%s\":%lu", i ? "," : "", names[i],
                    __atomic_load_n(&counters[i], __ATOMIC_RELAXED));
  }
  len += snprintf(line + len, sizeof line - (size_t)len, "}}\n");
  if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
}

static struct fuse_operations ops = {
  .getattr = hello_getattr,
  .readdir = hello_readdir,
  .open = hello_open,
  .read = hello_read,
  .release = hello_release,
};

int main(int argc, char *argv[]) {
  for (size_t i = 0; i < sizeof content; i++) content[i] = "0123456789abcdef"[i % 16];
  content[sizeof content - 1] = '\n';
  start_time = time(NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = print_counters;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  return fuse_main(argc, argv, &ops, NULL);
}
