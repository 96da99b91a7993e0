#pragma once
// Errors in user input. Every ConfigError names where it happened (file:line:column, or
// the command-line option that set the value) and the dotted key path, so a user can jump
// straight to the offending line. The CLI turns them into exit code 2.
#include <stdexcept>
#include <string>
#include <vector>

namespace quiesce {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string where, std::string path, std::string message);
  const std::string& where() const { return where_; }
  const std::string& path() const { return path_; }
  const std::string& message() const { return message_; }

 private:
  std::string where_;
  std::string path_;
  std::string message_;
};

// The closest candidate by edit distance, or "" when none is close enough to suggest.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace quiesce
