#pragma once
// Output files appear whole: written to a temporary name in the same directory, flushed,
// then renamed. A reader never sees a half-written file under its final name.
#include <string>

namespace quiesce {

void write_file_atomic(const std::string& path, const std::string& content);
void make_dirs(const std::string& dir);

}  // namespace quiesce
