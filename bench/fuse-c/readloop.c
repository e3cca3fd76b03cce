/*
 * The read bench's measuring client (bench/read.ts): N times open(PATH, O_RDONLY) + one read of up
 * to 4096 bytes + close, timed with CLOCK_MONOTONIC; every read must return SIZE bytes. Prints
 * one JSON line: {"iters","total_ns","mean_us","p50_us","p99_us","max_us"}.
 *
 * A separate process in C, so that nothing but the kernel and the file system under test sits in
 * the loop (no JS, no GC), and so that it never runs inside the process serving the mount.
 *
 *   readloop PATH N SIZE
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char *argv[]) {
  if (argc != 4) {
    fprintf(stderr, "usage: readloop PATH N SIZE\n");
    return 2;
  }
  const char *path = argv[1];
  long n = atol(argv[2]);
  long size = atol(argv[3]);
  if (n < 1) return 2;
  long long *lat = malloc(sizeof(long long) * (size_t)n);
  if (!lat) return 1;
  char buf[4096];
  long long start = now_ns();
  for (long i = 0; i < n; i++) {
    long long t0 = now_ns();
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      perror("open");
      return 1;
    }
    ssize_t got = read(fd, buf, sizeof buf);
    if (got != size) {
      fprintf(stderr, "read returned %zd, expected %ld\n", got, size);
      return 1;
    }
    close(fd);
    lat[i] = now_ns() - t0;
  }
  long long total = now_ns() - start;
  qsort(lat, (size_t)n, sizeof lat[0], cmp);
  long p50 = (long)((n * 50 + 99) / 100) - 1, p99 = (long)((n * 99 + 99) / 100) - 1;
  printf("{\"iters\":%ld,\"total_ns\":%lld,\"mean_us\":%.3f,\"p50_us\":%.3f,\"p99_us\":%.3f,\"max_us\":%.3f}\n", n, total,
         total / 1000.0 / n, lat[p50 < 0 ? 0 : p50] / 1000.0, lat[p99 < 0 ? 0 : p99] / 1000.0, lat[n - 1] / 1000.0);
  return 0;
}
