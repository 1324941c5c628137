/* report_probe: makes the calls tests/integration/report_test.sh expects to
 * find in a `palisade run --report` file:
 *   report_probe <syscall-nr> <count>
 * calls syscall <nr> <count> times (each must fail with ENOSYS), opens a
 * /proc and a /sys path that do not exist (twice each), and asks
 * /dev/null for its window size (TIOCGWINSZ, ENOTTY). Exits 0 when every
 * call failed as Linux says it must. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void expect_errno(const char* what, long r, int want) {
  if (r != -1 || errno != want) {
    fprintf(stderr, "report_probe: %s: got %ld errno %d, want -1 errno %d\n", what, r, errno, want);
    failures++;
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <syscall-nr> <count>\n", argv[0]);
    return 2;
  }
  long nr = strtol(argv[1], NULL, 10);
  int count = atoi(argv[2]);
  for (int i = 0; i < count; i++) expect_errno("syscall", syscall(nr, 0, 0, 0, 0, 0, 0), ENOSYS);
  for (int i = 0; i < 2; i++) {
    expect_errno("open /proc", open("/proc/palisade-report-probe", O_RDONLY), ENOENT);
    expect_errno("open /sys", open("/sys/palisade-report-probe/x", O_RDONLY), ENOENT);
  }
  int fd = open("/dev/null", O_RDONLY);
  if (fd < 0) {
    perror("report_probe: open /dev/null");
    return 1;
  }
  struct winsize ws;
  expect_errno("ioctl TIOCGWINSZ /dev/null", ioctl(fd, TIOCGWINSZ, &ws), ENOTTY);
  return failures ? 1 : 0;
}
