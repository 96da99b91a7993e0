#pragma once
// A YAML tree that remembers where each value came from. ConfigNode wraps a yaml-cpp node
// with its source file and dotted key path, so every error names file:line:column and the
// key. Overrides (`set:` in a scenario, `--set` on the command line) are written into the
// tree by dotted path and keep their own origin.
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/error.h"

namespace quiesce {

// Where values came from: the file a tree was parsed from, plus the origin of each
// overridden path ("--set cores=4", "scenarios/x.yaml:4:3 (set:)").
struct ConfigOrigin {
  std::string key;    // where the overriding key is written
  std::string value;  // where its value is written
};
struct ConfigSource {
  std::string file;
  std::map<std::string, ConfigOrigin> origins;
};

class ConfigNode {
 public:
  ConfigNode() = default;
  ConfigNode(YAML::Node node, std::shared_ptr<ConfigSource> source, std::string path,
             std::string fallback_where = "");
  ConfigNode(const ConfigNode&) = default;
  // yaml-cpp's Node::operator= writes into the referenced node; a ConfigNode rebinds.
  ConfigNode& operator=(const ConfigNode& o);

  bool present() const { return node_->IsDefined() && !node_->IsNull(); }
  bool is_map() const { return node_->IsDefined() && node_->IsMap(); }
  bool is_list() const { return node_->IsDefined() && node_->IsSequence(); }
  bool is_scalar() const { return node_->IsDefined() && node_->IsScalar(); }

  // A child by key; absent children still know where their parent is, for messages.
  ConfigNode operator[](const std::string& key) const;
  ConfigNode operator[](size_t index) const;
  // Follows a dotted path ("irq.ipi.latency").
  ConfigNode at_path(const std::string& dotted) const;
  size_t size() const { return node_->IsDefined() ? node_->size() : 0; }
  std::vector<std::string> keys() const;  // map keys in file order
  std::vector<ConfigNode> items() const;  // list items

  // The scalar text; fails with a clear message on a map or a list.
  std::string scalar(const char* what = "a single value") const;
  std::string where() const;
  // Where `key` itself is written in this mapping (for errors about the key, not its value).
  std::string key_where(const std::string& key) const;
  const std::string& path() const { return path_; }
  const YAML::Node& yaml() const { return *node_; }
  const std::shared_ptr<ConfigSource>& source() const { return source_; }

  [[noreturn]] void fail(const std::string& message) const;
  // Rejects keys other than `allowed`, with a "did you mean".
  void expect_keys(const std::vector<std::string>& allowed) const;

 private:
  std::optional<YAML::Node> node_{std::in_place};
  std::shared_ptr<ConfigSource> source_;
  std::string path_;
  std::string fallback_where_;
};

// Limits on every YAML input (scenario and platform files, `--set` values), checked on the
// bytes and on yaml-cpp's parse events before a tree is built: tree walks (copies, the
// emitter, validation) recurse and expand what aliases share, so a small hostile file could
// otherwise exhaust the stack, memory or time. Each is refused with one line naming it.
inline constexpr size_t kMaxYamlBytes = size_t{1} << 20;  // 1 MiB per file or value
inline constexpr int kMaxYamlDepth = 64;                  // collections nested in one another
inline constexpr size_t kMaxYamlNodes = 100000;           // nodes, counting each alias's copy
struct YamlLimits {
  size_t max_bytes = kMaxYamlBytes;
  int max_depth = kMaxYamlDepth;
  size_t max_nodes = kMaxYamlNodes;
};

// Why a YAML text was refused: a syntax error or a limit, and where (0-based line and
// column; -1 when unknown).
struct YamlTextError {
  int line = -1, column = -1;
  std::string message;
};
// Parses the first document of `text` within `limits`: UTF-8 only (a byte-order mark
// allowed), no control characters but tab and line breaks, no alias inside the node it
// names. Throws YamlTextError.
YAML::Node load_yaml_text(const std::string& text, const YamlLimits& limits = {});

// A sweep parses its scenario and platform texts, then forks a process per point that would
// parse the same texts again. While a KeptYamlTrees lives (one at a time), load_yaml_text
// keeps an untouched second tree of each text it parses (up to 4 MiB of text); its end
// drops them. A process forked meanwhile calls take() once: from then on its first load of
// each kept text returns the kept tree itself, its own copy of the parent's memory with
// every line and column, and it parses only texts it has not got (and any text a second
// time).
class KeptYamlTrees {
 public:
  KeptYamlTrees();
  ~KeptYamlTrees();
  KeptYamlTrees(const KeptYamlTrees&) = delete;
  KeptYamlTrees& operator=(const KeptYamlTrees&) = delete;
  static void take();
  static size_t count();  // trees kept (and not yet taken) in this process
};

// Parses YAML text; a syntax error or a limit becomes a ConfigError at the offending line.
ConfigNode parse_yaml(const std::string& text, const std::string& file_name, const YamlLimits& limits = {});
// Reads a file (at most limits.max_bytes of it); a missing, unreadable or oversized file is
// a ConfigError naming it.
std::string read_yaml_file(const std::string& path, const YamlLimits& limits = {});
// read_yaml_file(), then parse_yaml().
ConfigNode load_yaml_file(const std::string& path, const YamlLimits& limits = {});

// Writes `value` at `dotted` inside `root` (creating maps on the way), recording where the
// override's key and value are written. A path that runs through a list or a scalar is a
// ConfigError.
void set_by_path(ConfigNode& root, const std::string& dotted, const YAML::Node& value,
                 const std::string& origin, const std::string& value_origin = "");
// Where an overriding key was written, if `path` was overridden.
std::string override_key_origin(const ConfigNode& root, const std::string& path);

std::string join_path(const std::string& parent, const std::string& key);
std::vector<std::string> split_path(const std::string& dotted);

}  // namespace quiesce
