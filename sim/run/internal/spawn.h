#pragma once
// Children started from an argument vector (found on PATH), never through a shell.
#include <string>
#include <vector>

namespace quiesce::run_internal {

// Runs argv[0] with argv; its standard output into *out (when out is not null, else
// /dev/null), its standard error to `stderr_path`. Returns its exit status, or -1 when it
// could not be started or did not exit normally.
int run_argv(const std::vector<std::string>& argv, std::string* out, const std::string& stderr_path = "/dev/null");

// Whether an executable named `tool` is on PATH.
bool on_path(const std::string& tool);

}  // namespace quiesce::run_internal
