#include "sim/output/vcd_file.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "sim/base/error.h"

namespace quiesce {
namespace {

constexpr const char* kLinkName = "/w";  // SystemC opens kLinkName + ".vcd"

// The one place a VCD write error becomes an exception: an IoError (exit 5).
[[noreturn]] void fail_write(const std::string& path, int err) {
  throw IoError("write", path, err);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool write_all(int fd, const char* p, size_t n, int& err) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// SystemC dates the file by the wall clock; the copy dates it with this fixed text instead, so
// that two runs of one scenario give the same bytes.
constexpr const char* kFixedDate = "$date\n     (not recorded: runs of a scenario give identical files)\n$end";
constexpr size_t kMaxHeadBytes = size_t{1} << 16;

// Rewrites the `$date ... $end` block at the head of the VCD text. Returns false while `head`
// may still be incomplete (no block found yet, and no sign that there will not be one).
bool fix_date(std::string& head, bool at_eof) {
  const size_t d = head.find("$date");
  const size_t e = d == std::string::npos ? d : head.find("$end", d);
  if (e != std::string::npos) {
    head.replace(d, e + 4 - d, kFixedDate);
    return true;
  }
  return at_eof || head.size() >= kMaxHeadBytes || head.find("$enddefinitions") != std::string::npos;
}

// SystemC's naming, kept: a name without ".vcd" gets it.
std::string with_vcd(std::string path) {
  if (path.size() < 4 || path.compare(path.size() - 4, 4, ".vcd") != 0) path += ".vcd";
  return path;
}
}  // namespace

VcdFile::VcdFile(std::string path)
    : path_(with_vcd(std::move(path))), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  file_fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (file_fd_ < 0) fail_write(path_, errno);
  int p[2], s[2];
  if (::pipe2(p, O_CLOEXEC) != 0 || ::pipe2(s, O_CLOEXEC) != 0) {
    const int err = errno;
    close_fd(file_fd_);
    ::unlink(tmp_.c_str());
    fail_write(path_, err);
  }
  pipe_rd_ = p[0];
  pipe_wr_ = p[1];
  stop_rd_ = s[0];
  stop_wr_ = s[1];
  std::string dir = (std::filesystem::temp_directory_path() / "quiesce-vcd-XXXXXX").string();
  std::vector<char> templ(dir.begin(), dir.end());
  templ.push_back('\0');
  const std::string target = "/proc/self/fd/" + std::to_string(pipe_wr_);
  if (!::mkdtemp(templ.data())) {
    const int err = errno;
    stop();
    fail_write(path_, err);
  }
  link_dir_ = templ.data();
  if (::symlink(target.c_str(), (link_dir_ + kLinkName + ".vcd").c_str()) != 0) {
    const int err = errno;
    stop();
    fail_write(path_, err);
  }
  copier_ = std::thread([this] { copy(); });
}

VcdFile::~VcdFile() {
  if (!committed_) stop();
}

std::string VcdFile::systemc_name() const { return link_dir_ + kLinkName; }

// Copies until SystemC and this object have both closed the pipe's write end, or stop() asks.
// After an error it goes on reading (so SystemC never blocks on a full pipe) and drops the data.
// The head of the text is held until its date is rewritten (fix_date).
void VcdFile::copy() {
  std::vector<char> buf(size_t{1} << 20);
  int err = 0;
  std::string head;
  bool head_done = false;
  for (;;) {
    pollfd fds[2] = {{pipe_rd_, POLLIN, 0}, {stop_rd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      err = err ? err : errno;
      break;
    }
    if (fds[1].revents) break;
    const ssize_t n = ::read(pipe_rd_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = err ? err : errno;
      break;
    }
    if (n == 0) break;
    if (!head_done) {
      head.append(buf.data(), static_cast<size_t>(n));
      head_done = fix_date(head, false);
      if (head_done && !err) write_all(file_fd_, head.data(), head.size(), err);
      continue;
    }
    if (!err) write_all(file_fd_, buf.data(), static_cast<size_t>(n), err);
  }
  if (!head_done && !err) {
    fix_date(head, true);
    write_all(file_fd_, head.data(), head.size(), err);
  }
  if (!err && ::fsync(file_fd_) != 0) err = errno;
  error_ = err;
}

void VcdFile::remove_link() {
  if (link_dir_.empty()) return;
  ::unlink((link_dir_ + kLinkName + ".vcd").c_str());
  ::rmdir(link_dir_.c_str());
  link_dir_.clear();
}

void VcdFile::stop() {
  if (copier_.joinable()) {
    const char c = 0;
    if (::write(stop_wr_, &c, 1) < 0) {
      // The stop pipe is empty and ours: a failed write leaves only a thread that ends at EOF.
    }
    copier_.join();
  }
  remove_link();
  close_fd(pipe_rd_);
  close_fd(pipe_wr_);
  close_fd(stop_rd_);
  close_fd(stop_wr_);
  close_fd(file_fd_);
  ::unlink(tmp_.c_str());
}

void VcdFile::commit() {
  remove_link();
  close_fd(pipe_wr_);  // SystemC has closed its own end: the copier sees the end of the file
  copier_.join();
  int err = error_;
  if (::close(file_fd_) != 0 && !err) err = errno;
  file_fd_ = -1;
  if (!err && std::rename(tmp_.c_str(), path_.c_str()) != 0) err = errno;
  committed_ = true;
  close_fd(pipe_rd_);
  close_fd(stop_rd_);
  close_fd(stop_wr_);
  if (err) {
    ::unlink(tmp_.c_str());
    fail_write(path_, err);
  }
}

}  // namespace quiesce
