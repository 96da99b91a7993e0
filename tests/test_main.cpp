// GoogleTest entry point for every test binary. ctest runs each TEST in its own process
// (gtest_discover_tests), because SystemC elaborates once per process.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/run/point.h"

int sc_main(int, char**) { return 3; }

int main(int argc, char** argv) {
  quiesce::quiet_systemc();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
