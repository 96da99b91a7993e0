#pragma once
// Output files appear whole: written to a temporary name in the same directory
// (FINAL.tmp.PID), flushed, then renamed. A reader never sees a half-written file under its
// final name. Every failure of the file system is an IoError naming the path and errno.
#include <cstddef>
#include <string>

namespace quiesce {

void write_file_atomic(const std::string& path, const std::string& content);
void make_dirs(const std::string& dir);

// The whole file; IoError when it cannot be read, ConfigError (naming the file) when it is
// larger than `max_bytes` (our own files have sane sizes: a larger one is not ours).
std::string read_file_bounded(const std::string& path, size_t max_bytes);

// Before a long run: that `path` can be written as an output file. Its directory is made
// if missing and a probe file is created there and removed; a directory at `path`, or a
// directory that cannot be written, is an IoError naming `what` (e.g. "--trace").
void check_output_file(const std::string& path, const std::string& what);

// Whether `name` is a temporary name write_file_atomic gives `final_name` (final.tmp.PID).
bool is_temp_name_of(const std::string& name, const std::string& final_name);

}  // namespace quiesce
