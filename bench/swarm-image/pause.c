/*
 * The Swarm baseline's container process (bench/swarm-tasks.ts): built static, imported as the
 * only file of a local image, so that a swarm task needs no registry. Sleeps until a signal;
 * SIGTERM ends it at once.
 */
#include <signal.h>
#include <unistd.h>

static void done(int sig) {
  (void)sig;
  _exit(0);
}

int main(void) {
  signal(SIGTERM, done);
  signal(SIGINT, done);
  for (;;) pause();
}
