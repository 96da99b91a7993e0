#include "sim/output/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "sim/base/error.h"

namespace quiesce {
namespace {

// write(2) until all is written; false with errno set on failure.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("create directory", dir, ec.value());
  if (!std::filesystem::is_directory(dir, ec)) throw IoError("create directory", dir, ENOTDIR);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("write", tmp, errno);
  int err = 0;
  if (!write_all(fd, content.data(), content.size()) || ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw IoError("write", path, err);
  }
}

std::string read_file_bounded(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("read", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("read", path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw IoError("read", path, EISDIR);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw IoError("read", path, err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      throw ConfigError(path, "", "larger than " + std::to_string(max_bytes) + " bytes: not a file Quiesce wrote");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void check_output_file(const std::string& path, const std::string& what) {
  namespace fs = std::filesystem;
  if (path.empty()) throw ConfigError(what, "", "needs a file name");
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError("write " + what, path, EISDIR);
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) throw IoError("write " + what + " into", parent.string(), ec.value());
  }
  // A probe under the name the file's own temporary would have: the name's length, the
  // directory's permissions and the file system's state are all tried.
  const std::string probe = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("write " + what, path, errno);
  ::close(fd);
  ::unlink(probe.c_str());
}

bool is_temp_name_of(const std::string& name, const std::string& final_name) {
  const std::string prefix = final_name + ".tmp.";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return true;
}

}  // namespace quiesce
