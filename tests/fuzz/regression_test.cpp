// Replays every input the fuzzers ever broke something with (tests/fuzz/regressions/
// <target>/*) through the same entry function as the fuzz target: each must be accepted
// or refused with a clean ConfigError, promptly. A crash or an abort fails the test
// process itself. New files are picked up without rebuilding.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "tests/fuzz/entries.h"

namespace quiesce::fuzz {

void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }

namespace {

// Generous for the ASan build; in the normal build every stored input takes milliseconds.
constexpr double kMaxSecondsPerInput = 5.0;

std::string regressions_dir(const std::string& target) {
  const char* root = std::getenv("QUIESCE_ROOT");
  return std::string(root ? root : QUIESCE_SOURCE_DIR) + "/tests/fuzz/regressions/" + target;
}

std::vector<std::filesystem::path> inputs(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string().front() != '.') out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FuzzRegressions : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzRegressions, EveryStoredInputIsAcceptedOrRefusedCleanlyAndPromptly) {
  const Target& t = GetParam();
  const std::string dir = regressions_dir(t.name);
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  const auto files = inputs(dir);
  ASSERT_FALSE(files.empty()) << "no stored inputs in " << dir;
  for (const auto& f : files) {
    const std::string bytes = read_bytes(f);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const Outcome o = t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      EXPECT_TRUE(o == kAccepted || o == kRefused) << f;
    } catch (const std::exception& e) {
      ADD_FAILURE() << f << ": escaped as " << typeid(e).name() << ": " << e.what();
    } catch (...) {
      ADD_FAILURE() << f << ": a non-standard exception escaped";
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, kMaxSecondsPerInput) << f;
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressions, ::testing::ValuesIn(targets()),
                         [](const ::testing::TestParamInfo<Target>& i) {
                           return std::string(i.param.name);
                         });

}  // namespace
}  // namespace quiesce::fuzz
