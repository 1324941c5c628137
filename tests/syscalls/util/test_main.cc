// main() for the syscall test binaries: gtest + gmock, nothing else, so a
// binary behaves the same natively and as PID 1 inside the sandbox.
#include "gmock/gmock.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  return RUN_ALL_TESTS();
}
