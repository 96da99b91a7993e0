#include "sim/run/internal/sweep_state.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "sim/base/error.h"
#include "sim/output/files.h"
#include "sim/output/json.h"
#include "sim/run/sweep.h"

namespace fs = std::filesystem;
using ojson = quiesce::Json;

namespace quiesce::run_internal {
namespace {

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int find_build_id(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((nh->n_namesz + 3) & ~3u);
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        for (unsigned k = 0; k < nh->n_descsz; ++k) {
          char b[4];
          std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(desc[k]));
          *out += b;
        }
        return 1;
      }
      p = desc + ((nh->n_descsz + 3) & ~3u);
    }
  }
  return 1;  // the first object is the program itself: stop there
}

// A YAML subtree as setting -> value lines: maps by key, lists by [i].
void flatten(const YAML::Node& n, const std::string& path, std::map<std::string, std::string>* out) {
  if (n.IsMap()) {
    for (const auto& kv : n) flatten(kv.second, path + (path.empty() ? "" : ".") + kv.first.Scalar(), out);
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) flatten(n[i], path + "[" + std::to_string(i) + "]", out);
  } else if (n.IsScalar()) {
    (*out)[path] = n.Scalar();
  } else {
    (*out)[path] = "~";
  }
}

[[noreturn]] void bad(const std::string& file, const std::string& key, const std::string& what) {
  throw ConfigError(file, key, what + " (not as Quiesce writes it: the file was changed or damaged)");
}

const ojson& member(const ojson& obj, const char* key, const std::string& file, const std::string& path = "") {
  const std::string k = path.empty() ? key : path + "." + key;
  if (!obj.is_object()) bad(file, path, "expected an object");
  auto it = obj.find(key);
  if (it == obj.end()) bad(file, k, "missing");
  return *it;
}

std::string string_of(const ojson& v, const std::string& file, const std::string& key) {
  if (!v.is_string()) bad(file, key, "expected a string");
  return v.get<std::string>();
}

ojson parse_json_file(const std::string& path, size_t max_bytes) {
  const std::string text = read_file_bounded(path, max_bytes);
  try {
    return ojson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string msg = e.what();
    if (const size_t at = msg.find("] "); at != std::string::npos) msg = msg.substr(at + 2);
    throw ConfigError(path, "", "malformed JSON: " + msg);
  }
}

const std::vector<std::string>& our_files() {
  static const std::vector<std::string> names = {"sweep.json",  "points.csv", "points.jsonl", "summary.md",
                                                 "junit.xml",   "plots.txt",  "plot.stderr",  ".quiesce.lock",
                                                 "latency_cdf.png", "detection_bars.png"};
  return names;
}

bool is_plot_name(const std::string& name) {
  static const std::regex re(R"((heatmap|detection)_[A-Za-z0-9._+-]+\.png)");
  return std::regex_match(name, re);
}

bool is_point_dir_name(const std::string& name, bool* part) {
  static const std::regex re(R"(p[0-9]{6,}(\.part|\.merging)?)");
  if (!std::regex_match(name, re)) return false;
  *part = name.find('.') != std::string::npos;
  return true;
}

// The pids holding an flock on `path` (from /proc/locks, matched by inode), e.g. "pid 42".
std::string lock_holders(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "pid unknown";
  std::ifstream in("/proc/locks");
  std::set<long> pids;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, kind, adv, mode, dev;
    long pid = 0;
    f >> id >> kind;
    if (kind == "->") f >> kind;
    f >> adv >> mode >> pid >> dev;
    const size_t colon = dev.rfind(':');
    if (kind == "FLOCK" && colon != std::string::npos && dev.substr(colon + 1) == std::to_string(st.st_ino)) {
      pids.insert(pid);
    }
  }
  if (pids.empty()) return "pid unknown";
  std::string out = pids.size() == 1 ? "pid" : "pids";
  for (long p : pids) out += " " + std::to_string(p);
  return out;
}

}  // namespace

std::string binary_build_id() {
  static const std::string id = [] {
    std::string s;
    ::dl_iterate_phdr(find_build_id, &s);
    return s.empty() ? std::string("unknown") : s;
  }();
  return id;
}

SweepManifest make_manifest(const Scenario& sc, const std::string& text, const std::vector<Override>& sets) {
  SweepManifest m;
  m.scenario = sc.params.name();
  m.file = sc.file;
  m.binary = binary_build_id();
  m.scenario_text = text;
  for (const auto& o : sets) {
    YAML::Emitter e;
    e << YAML::Flow << o.value;
    m.sets.push_back(o.key + "=" + e.c_str());
  }
  // The settings as loaded (units normalised, `set:` and --set applied), not as written: the
  // same sweep written two ways is one sweep. The description is documentation only.
  for (const ParamGroup* g : {static_cast<const ParamGroup*>(&sc.params), static_cast<const ParamGroup*>(&sc.sim),
                              static_cast<const ParamGroup*>(&sc.kernel), static_cast<const ParamGroup*>(&sc.variants)}) {
    for (const ParamBase* p : g->params()) {
      if (g->full_name(*p) != "description") m.resolved[g->full_name(*p)] = p->value_text();
    }
  }
  for (const ParamGroup* g : sc.platform.groups()) {
    for (const ParamBase* p : g->params()) {
      std::string k = g->full_name(*p);
      if (m.resolved.count(k)) k = "platform." + k;
      m.resolved[k] = p->value_text();
    }
  }
  for (const char* key : {"workload", "locks", "expect", "sweep", "timing"}) {
    ConfigNode n = sc.doc[key];
    if (n.present()) flatten(n.yaml(), key, &m.resolved);
  }
  uint64_t h = fnv1a("binary=" + m.binary + "\n");
  for (const auto& [k, v] : m.resolved) h = fnv1a(k + "=" + v + "\n", h);
  m.identity = hex64(h);

  m.info.name = m.scenario;
  m.info.file = sc.file;
  m.info.total = sc.sweep.total;
  if (sc.sweep_params.precision() > 0) {
    m.info.precision = sc.sweep_params.precision();
    m.info.precision_step = static_cast<uint64_t>(sc.sweep_params.precision_step());
  }
  m.spec = sc.sweep;
  for (const auto& a : sc.sweep.axes) {
    SweepAxisInfo ai;
    ai.label = a.label();
    ai.keys = a.keys;
    for (const auto& row : a.rows) {
      std::vector<std::string> r;
      for (const auto& v : row) r.push_back(v.text);
      ai.values.push_back(r);
    }
    m.info.axes.push_back(ai);
  }
  return m;
}

std::string manifest_json(const SweepManifest& m) {
  ojson j;
  j["format"] = kManifestFormat;
  j["scenario"] = m.scenario;
  j["file"] = m.file;
  j["identity"] = m.identity;
  j["binary"] = m.binary;
  j["set"] = m.sets;
  j["total_points"] = m.info.total;
  if (m.info.precision > 0) {
    j["precision"] = m.info.precision;
    j["precision_step"] = m.info.precision_step;
  }
  ojson axes = ojson::array();
  for (const auto& a : m.info.axes) {
    ojson ax;
    ax["key"] = a.label;
    if (a.keys.size() > 1) ax["zip"] = a.keys;
    ojson values = ojson::array();
    for (const auto& row : a.values) {
      if (row.size() == 1) {
        values.push_back(row[0]);
      } else {
        values.push_back(row);
      }
    }
    ax["values"] = values;
    axes.push_back(ax);
  }
  j["axes"] = axes;
  j["resolved"] = m.resolved;
  j["scenario_text"] = m.scenario_text;
  // The point list, while it stays a reasonable size (it can always be recomputed).
  if (m.info.total <= 100000) {
    ojson points = ojson::array();
    for (uint64_t i = 0; i < m.info.total; ++i) {
      ojson p;
      p["index"] = i;
      p["id"] = point_id(i);
      ojson params = ojson::object();
      for (const auto& pp : m.spec.point(i)) params[pp.key] = pp.value->text;
      p["params"] = params;
      points.push_back(p);
    }
    j["points"] = points;
  }
  return j.dump(1) + "\n";
}

SweepManifest read_manifest(const std::string& dir) {
  const std::string file = dir + "/sweep.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) throw ConfigError(dir, "", "not a sweep directory (no sweep.json)");
  const ojson j = parse_json_file(file, kMaxManifestBytes);
  if (!j.is_object()) bad(file, "", "expected an object");
  const ojson& format = member(j, "format", file);
  if (!format.is_number_integer() || format.get<int64_t>() != kManifestFormat) {
    throw ConfigError(file, "format",
                      "written by another version of quiesce (format " + format.dump() + ", this one reads " +
                          std::to_string(kManifestFormat) + "); start the sweep again with --force");
  }
  SweepManifest m;
  m.scenario = string_of(member(j, "scenario", file), file, "scenario");
  m.file = string_of(member(j, "file", file), file, "file");
  m.identity = string_of(member(j, "identity", file), file, "identity");
  m.binary = string_of(member(j, "binary", file), file, "binary");
  m.scenario_text = string_of(member(j, "scenario_text", file), file, "scenario_text");
  const ojson& sets = member(j, "set", file);
  if (!sets.is_array()) bad(file, "set", "expected a list");
  for (size_t i = 0; i < sets.size(); ++i) m.sets.push_back(string_of(sets[i], file, "set[" + std::to_string(i) + "]"));
  const ojson& resolved = member(j, "resolved", file);
  if (!resolved.is_object()) bad(file, "resolved", "expected an object");
  for (const auto& [k, v] : resolved.items()) m.resolved[k] = string_of(v, file, "resolved." + k);
  const ojson& total = member(j, "total_points", file);
  if (!total.is_number_unsigned()) bad(file, "total_points", "expected a whole number");
  m.info.name = m.scenario;
  m.info.file = m.file;
  m.info.total = total.get<uint64_t>();
  if (j.contains("precision")) {
    const ojson& precision = j["precision"];
    const ojson& step = member(j, "precision_step", file);
    if (!precision.is_number() || !(precision.get<double>() > 0 && precision.get<double>() <= 0.5)) {
      bad(file, "precision", "expected a number in (0, 0.5]");
    }
    if (!step.is_number_unsigned() || step.get<uint64_t>() < 1) bad(file, "precision_step", "expected a whole number >= 1");
    m.info.precision = precision.get<double>();
    m.info.precision_step = step.get<uint64_t>();
  }
  const ojson& axes = member(j, "axes", file);
  if (!axes.is_array()) bad(file, "axes", "expected a list");
  uint64_t product = 1;
  for (size_t a = 0; a < axes.size(); ++a) {
    const std::string at = "axes[" + std::to_string(a) + "]";
    SweepAxisInfo ai;
    Axis axis;
    ai.label = string_of(member(axes[a], "key", file, at), file, at + ".key");
    if (axes[a].contains("zip")) {
      const ojson& zip = axes[a]["zip"];
      if (!zip.is_array() || zip.size() < 2) bad(file, at + ".zip", "expected a list of at least two keys");
      for (size_t k = 0; k < zip.size(); ++k) axis.keys.push_back(string_of(zip[k], file, at + ".zip"));
    } else {
      axis.keys = {ai.label};
    }
    ai.keys = axis.keys;
    const ojson& values = member(axes[a], "values", file, at);
    if (!values.is_array() || values.empty()) bad(file, at + ".values", "expected a non-empty list");
    for (size_t v = 0; v < values.size(); ++v) {
      const std::string vat = at + ".values[" + std::to_string(v) + "]";
      std::vector<std::string> row;
      if (values[v].is_array()) {
        for (const auto& x : values[v]) row.push_back(string_of(x, file, vat));
      } else {
        row.push_back(string_of(values[v], file, vat));
      }
      if (row.size() != axis.keys.size()) bad(file, vat, "expected one value per key of the axis");
      std::vector<AxisValue> arow;
      for (const auto& x : row) arow.push_back({x, ""});
      axis.rows.push_back(arow);
      ai.values.push_back(row);
    }
    if (product > kMaxSweepPoints * 10 / values.size()) bad(file, "axes", "more points than a sweep may have");
    product *= values.size();
    m.info.axes.push_back(ai);
    m.spec.axes.push_back(axis);
  }
  if (product != m.info.total) {
    bad(file, "total_points", "is " + std::to_string(m.info.total) + " but the axes make " + std::to_string(product));
  }
  m.spec.total = product;
  return m;
}

std::string manifest_difference(const SweepManifest& have, const SweepManifest& want) {
  if (have.identity == want.identity) return "";
  std::vector<std::string> diffs;
  for (const auto& [k, v] : want.resolved) {
    auto it = have.resolved.find(k);
    if (it == have.resolved.end()) {
      diffs.push_back(k + " is new (" + printable(v, 40) + ")");
    } else if (it->second != v) {
      diffs.push_back(k + " was " + printable(it->second, 40) + ", is " + printable(v, 40));
    }
  }
  for (const auto& [k, v] : have.resolved) {
    if (!want.resolved.count(k)) diffs.push_back(k + " (" + printable(v, 40) + ") is gone");
  }
  if (have.binary != want.binary) diffs.push_back("the quiesce binary is another build (build id " + want.binary.substr(0, 12) + ", was " + have.binary.substr(0, 12) + ")");
  if (diffs.empty()) return "its identity differs (" + have.identity + " then, " + want.identity + " now)";
  std::string out;
  for (size_t i = 0; i < diffs.size() && i < 4; ++i) out += (i ? "; " : "") + diffs[i];
  if (diffs.size() > 4) out += "; and " + std::to_string(diffs.size() - 4) + " more";
  return out;
}

bool read_point_record(const std::string& dir, const SweepSpec& spec, uint64_t index, PointRecord* rec) {
  const std::string pdir = dir + "/points/" + point_id(index);
  const std::string path = pdir + "/result.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  const ojson doc = parse_json_file(path, kMaxResultBytes);
  if (!doc.is_object()) bad(path, "", "expected an object");
  rec->index = index;
  rec->id = point_id(index);
  rec->params.clear();
  for (const auto& p : spec.point(index)) rec->params.emplace_back(p.key, p.value->text);
  rec->outcome = string_of(member(doc, "outcome", path), path, "outcome");
  static const std::regex outcome_re("[a-z_]{1,32}");
  if (!std::regex_match(rec->outcome, outcome_re)) bad(path, "outcome", "not an outcome");
  const ojson& metrics = member(doc, "metrics", path);
  if (!metrics.is_object()) bad(path, "metrics", "expected an object");
  for (const auto& [k, v] : metrics.items()) {
    if (v.is_null()) {
      // No value (a histogram with no samples): not a zero, left out of medians and empty
      // in the joined files.
      rec->metrics.emplace_back(k, std::numeric_limits<double>::quiet_NaN());
    } else if (v.is_number()) {
      rec->metrics.emplace_back(k, v.get<double>());
    } else {
      bad(path, "metrics." + k, "expected a number");
    }
  }
  // How long the point ran in simulated time (a deadlock ends it early): studies compare
  // like with like only at equal simulated time.
  if (doc.contains("simulated_time_ps")) {
    const ojson& t = doc["simulated_time_ps"];
    if (!t.is_number_integer() || t.get<int64_t>() < 0) bad(path, "simulated_time_ps", "expected a whole number");
    rec->metrics.emplace_back("simulated_ms", static_cast<double>(t.get<int64_t>()) / 1e9);
  }
  rec->ok = !rec->broken();
  if (doc.contains("expectations")) {
    const ojson& ex = doc["expectations"];
    if (!ex.is_array()) bad(path, "expectations", "expected a list");
    for (size_t i = 0; i < ex.size(); ++i) {
      const std::string at = "expectations[" + std::to_string(i) + "]";
      const ojson& okv = member(ex[i], "ok", path, at);
      if (!okv.is_boolean()) bad(path, at + ".ok", "expected true or false");
      const std::string key = string_of(member(ex[i], "key", path, at), path, at + ".key");
      const std::string expected = string_of(member(ex[i], "expected", path, at), path, at + ".expected");
      const std::string actual = string_of(member(ex[i], "actual", path, at), path, at + ".actual");
      if (okv.get<bool>()) continue;
      rec->ok = false;
      rec->failures.push_back("expect " + key + " " + expected + " (actual " + actual + ")");
    }
  }
  if (doc.contains("failure")) rec->failures.push_back(string_of(doc["failure"], path, "failure"));
  // Only a broken point's stderr goes into the joined files: a point that ran has nothing
  // to add, and a process's own noise (pids, addresses) would make them differ run to run.
  if (rec->broken()) {
    std::string err;
    try {
      err = read_file_bounded(pdir + "/stderr.txt", kMaxResultBytes);
    } catch (const std::exception&) {
    }
    rec->stderr_tail = utf8_tail(err, 2000);
  }
  // How long the point ran on the host, when and where (the sweep wrote host.json beside
  // it; not a result, only junit.xml's time, timestamp and hostname).
  if (fs::exists(pdir + "/host.json", ec)) {
    try {
      const ojson host = parse_json_file(pdir + "/host.json", 4096);
      if (host.is_object()) {
        if (host.contains("host_seconds") && host["host_seconds"].is_number()) {
          rec->host_seconds = std::max(0.0, host["host_seconds"].get<double>());
        }
        static const std::regex iso("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}");
        if (host.contains("started") && host["started"].is_string() &&
            std::regex_match(host["started"].get<std::string>(), iso)) {
          rec->started = host["started"].get<std::string>();
        }
        static const std::regex name("[A-Za-z0-9._-]{1,253}");
        if (host.contains("hostname") && host["hostname"].is_string() &&
            std::regex_match(host["hostname"].get<std::string>(), name)) {
          rec->hostname = host["hostname"].get<std::string>();
        }
      }
    } catch (const std::exception&) {
      // A damaged host.json costs junit.xml its times, never the sweep.
    }
  }
  return true;
}

bool is_our_name(const std::string& name) {
  for (const auto& f : our_files()) {
    if (name == f || is_temp_name_of(name, f)) return true;
  }
  if (is_plot_name(name)) return true;
  static const std::regex shard_lock(R"(\.quiesce\.shard-[0-9]+-of-[0-9]+\.lock)");
  return name == "points" || name == "slurm" || std::regex_match(name, shard_lock);
}

void check_sweep_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec)) throw IoError("use as a sweep directory", dir, ENOTDIR);
  if (fs::exists(dir + "/sweep.json", ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    bool part = false;
    if (name == "points" && e.is_directory()) {
      for (const auto& p : fs::directory_iterator(e.path(), ec)) {
        if (!is_point_dir_name(p.path().filename().string(), &part)) {
          throw ConfigError(dir, "", "holds files that are not a sweep's (" + printable(p.path().string(), 120) +
                                         "); give --out an empty or new directory, or a sweep directory");
        }
      }
      continue;
    }
    if (!is_our_name(name)) {
      throw ConfigError(dir, "", "holds files that are not a sweep's (" + printable(name, 80) +
                                     "); give --out an empty or new directory, or a sweep directory");
    }
  }
}

void remove_leftovers(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file()) continue;
    for (const auto& f : our_files()) {
      if (is_temp_name_of(name, f)) fs::remove(e.path(), ec);
    }
  }
  for (const auto& e : fs::directory_iterator(dir + "/points", ec)) {
    bool part = false;
    if (e.is_directory() && is_point_dir_name(e.path().filename().string(), &part) && part) fs::remove_all(e.path(), ec);
  }
}

void remove_sweep_outputs(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/points", ec)) {
    bool part = false;
    if (e.is_directory() && is_point_dir_name(e.path().filename().string(), &part)) fs::remove_all(e.path(), ec);
  }
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && is_our_name(name) && name.rfind(".quiesce", 0) != 0) fs::remove(e.path(), ec);
  }
  fs::remove_all(dir + "/slurm", ec);
}

SweepLock::SweepLock(const std::string& dir, int shard_index, int shard_count) {
  auto take = [&](const std::string& path, int how) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw IoError("lock", path, errno);
    if (::flock(fd, how | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err != EWOULDBLOCK) throw IoError("lock", path, err);
      const std::string holders = lock_holders(path);
      throw ConfigError(dir, "", "another quiesce is writing this sweep directory (" + holders +
                                     "); wait for it to end, or use another --out");
    }
    fds_.push_back(fd);
  };
  try {
    if (shard_count <= 1) {
      take(dir + "/.quiesce.lock", LOCK_EX);
    } else {
      take(dir + "/.quiesce.lock", LOCK_SH);
      const std::string mine =
          dir + "/.quiesce.shard-" + std::to_string(shard_index) + "-of-" + std::to_string(shard_count) + ".lock";
      take(mine, LOCK_EX);
      shard_lock_ = mine;
    }
  } catch (...) {
    for (int fd : fds_) ::close(fd);
    throw;
  }
}

SweepLock::~SweepLock() {
  if (!shard_lock_.empty()) ::unlink(shard_lock_.c_str());  // still held: no other run of it is in
  for (int fd : fds_) ::close(fd);
}

}  // namespace quiesce::run_internal
