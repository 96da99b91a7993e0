#pragma once
// Errors in user input. Every ConfigError names where it happened (file:line:column, or
// the command-line option that set the value) and the dotted key path, so a user can jump
// straight to the offending line. The CLI turns them into exit code 2. Its text is always
// one line of bounded length, whatever user text it quotes (see printable()).
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
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

// User text made fit for a one-line message: control characters escaped (\n, \t, \xNN),
// bytes that are not UTF-8 shown as \xNN, and the middle elided, with a count of the bytes
// left out, when the escaped text would be longer than `max_bytes`.
std::string printable(std::string_view text, size_t max_bytes = 200);

// The environment failed us: a file or directory could not be read, written or made, or a
// child process could not be started (a full or read-only disk, a path too long, no more
// processes). Not a bug and not bad input: the CLI turns it into exit code 5, naming the
// path and the system's reason (strerror).
inline constexpr int kExitIo = 5;  // the exit code of an IoError

class IoError : public std::runtime_error {
 public:
  // `action`: "write", "create directory", ...; `err`: the errno value.
  IoError(const std::string& action, const std::string& path, int err);
  const std::string& path() const { return path_; }
  int error_number() const { return errno_; }

 private:
  std::string path_;
  int errno_;
};

// Text as valid UTF-8: each byte that does not begin a well-formed character (a tail cut
// inside one, overlong forms, surrogates) becomes U+FFFD. JSON and XML readers reject
// anything else.
std::string valid_utf8(std::string_view text);
// The last `n` bytes of `text` or fewer, starting at a character boundary, "..." before
// them when something was left out.
std::string utf8_tail(std::string_view text, size_t n);

// The closest candidate by edit distance, or "" when none is close enough to suggest.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace quiesce
