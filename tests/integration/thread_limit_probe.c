// Creates threads until the host refuses one (run under a small pids
// limit): pthread_create must fail with EAGAIN, and everything created
// before must still run and be joined. Exits 0 on success, prints the
// count; exits 1 on a wrong error, 2 if no limit was ever hit.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define kMaxThreads 512

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int release = 0;
static int ran = 0;

static void* Worker(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  ran++;
  while (!release) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(void) {
  static pthread_t threads[kMaxThreads];
  int n = 0, err = 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (; n < kMaxThreads; n++) {
    err = pthread_create(&threads[n], &attr, Worker, NULL);
    if (err != 0) break;
  }
  // A process too: fork must fail the same way, or work.
  pid_t pid = fork();
  int fork_err = pid < 0 ? errno : 0;
  if (pid == 0) _exit(0);
  pthread_mutex_lock(&mu);
  release = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
  printf("threads %d, then %s; fork: %s; ran %d\n", n, err ? strerror(err) : "no limit",
         fork_err ? strerror(fork_err) : "ok", ran);
  if (err == 0) return 2;
  if (err != EAGAIN || (fork_err != 0 && fork_err != EAGAIN) || ran != n) return 1;
  // After the threads are gone there is room again (their host
  // resources go away shortly after they exit).
  pthread_t again;
  for (int i = 0; pthread_create(&again, NULL, Worker, NULL) != 0; i++) {
    if (i == 100) {
      printf("no thread after the others exited\n");
      return 1;
    }
    usleep(50000);
  }
  pthread_join(again, NULL);
  return 0;
}
