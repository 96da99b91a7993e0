#pragma once
// A VCD waveform file that appears whole or not at all. SystemC's VCD writer opens its file
// itself and ignores write errors, so it is given a pipe instead (through a symlink whose name
// ends in ".vcd", as SystemC appends that): a thread copies the pipe into a temporary file
// beside the final one with checked writes, and commit() fsyncs it and renames it into place.
// The copy replaces SystemC's wall-clock `$date` with a fixed text: two runs give the same bytes.
// A write error (a full disk, a file size limit) removes the temporary file and throws.
#include <atomic>
#include <string>
#include <thread>

namespace quiesce {

class VcdFile {
 public:
  // Creates the temporary file and starts the copy; throws when it cannot be created.
  explicit VcdFile(std::string path);
  // Without commit(), the temporary file is removed.
  ~VcdFile();
  VcdFile(const VcdFile&) = delete;
  VcdFile& operator=(const VcdFile&) = delete;

  // The name for sc_create_vcd_trace_file() (it adds ".vcd").
  std::string systemc_name() const;
  // Call after sc_close_vcd_trace_file(): waits for the copy, then fsyncs and renames.
  // Throws "cannot write PATH: STRERROR" (and leaves nothing under either name) on failure.
  void commit();
  const std::string& path() const { return path_; }

 private:
  void copy();
  void stop();
  void remove_link();

  const std::string path_;
  const std::string tmp_;
  std::string link_dir_;
  int file_fd_ = -1;
  int pipe_rd_ = -1, pipe_wr_ = -1;
  int stop_rd_ = -1, stop_wr_ = -1;
  std::atomic<int> error_{0};
  std::thread copier_;
  bool committed_ = false;
};

}  // namespace quiesce
