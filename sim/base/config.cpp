#include "sim/base/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "sim/base/internal/utf8.h"

namespace quiesce {
namespace {

std::string size_text(size_t bytes) {
  if (bytes % (size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// UTF-8 only, and no control characters but tab and line breaks (as YAML requires).
void check_characters(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF))) {
    throw YamlTextError{0, 0, "not UTF-8: the file begins with a UTF-16 byte-order mark (save it as UTF-8)"};
  }
  int line = 0, column = 0;
  size_t i = 0;
  while (i < n) {
    uint32_t cp = 0;
    const size_t len = internal::decode_utf8(s + i, n - i, &cp);
    char buf[96];
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "not UTF-8: byte 0x%02X does not begin a valid character (save the file as UTF-8)",
                    s[i]);
      throw YamlTextError{line, column, buf};
    }
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F) {
      std::snprintf(buf, sizeof buf, "control character U+%04X (YAML allows only tab and line breaks)",
                    static_cast<unsigned>(cp));
      throw YamlTextError{line, column, buf};
    }
    if (cp == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
    i += len;
  }
}

// Walks the parse events of one document and refuses it past the depth or node limits,
// counting what every alias would repeat, before any tree exists.
class LimitCheck : public YAML::EventHandler {
 public:
  explicit LimitCheck(const YamlLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const Anchor* a = anchor < anchors_.size() ? &anchors_[anchor] : nullptr;
    const std::string name = a ? "*" + a->name : std::string("an alias");
    if (!a || !a->done) fail(mark, "alias '" + name + "' is inside the node it names (a cycle)");
    aliased_ = true;
    add(mark, a->nodes, "alias '" + name + "' repeats " + std::to_string(a->nodes) + " nodes and ");
    grow(mark, a->height);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Anchor {
    std::string name;
    size_t nodes = 0;
    int height = 0;  // collections nested in it, itself included
    bool done = false;
  };
  struct Open {
    YAML::anchor_t anchor;
    size_t first;  // nodes_ before it
    int height_below = 0;
  };

  [[noreturn]] static void fail(const YAML::Mark& mark, const std::string& message) {
    throw YamlTextError{mark.line, mark.column, message};
  }
  void add(const YAML::Mark& mark, size_t n, const std::string& why = "") {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes) {
      fail(mark, why + "the document has more than " + std::to_string(limits_.max_nodes) + " nodes" +
                     (aliased_ ? " (counting what aliases repeat)" : "") + ", the limit on YAML input");
    }
  }
  // A node of `height` nested collections begins here, inside the open ones.
  void grow(const YAML::Mark& mark, int height) {
    if (static_cast<int>(open_.size()) + height > limits_.max_depth) {
      fail(mark, "collections nest deeper than " + std::to_string(limits_.max_depth) + " levels" +
                     (aliased_ ? " (counting what aliases repeat)" : "") + ", the limit on YAML input");
    }
    if (!open_.empty()) open_.back().height_below = std::max(open_.back().height_below, height);
  }
  void define(YAML::anchor_t anchor) {
    if (anchor == YAML::NullAnchor) return;
    if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
    anchors_[anchor].name = pending_name_;
    pending_name_.clear();
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    define(anchor);
    add(mark, 1);
    grow(mark, 0);
    if (anchor != YAML::NullAnchor) {
      anchors_[anchor].nodes = 1;
      anchors_[anchor].done = true;
    }
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    define(anchor);
    grow(mark, 1);
    open_.push_back({anchor, nodes_});
    add(mark, 1);
  }
  void close() {
    Open o = open_.back();
    open_.pop_back();
    const int height = o.height_below + 1;
    if (!open_.empty()) open_.back().height_below = std::max(open_.back().height_below, height);
    if (o.anchor != YAML::NullAnchor) {
      Anchor& a = anchors_[o.anchor];
      a.nodes = nodes_ - o.first;
      a.height = height;
      a.done = true;
    }
  }

  const YamlLimits limits_;
  std::vector<Anchor> anchors_;  // by yaml-cpp's anchor id (1, 2, ...)
  std::vector<Open> open_;
  std::string pending_name_;
  size_t nodes_ = 0;
  bool aliased_ = false;
};

}  // namespace

namespace {

YamlTextError syntax_error(const YAML::Exception& e) {
  return YamlTextError{e.mark.line, e.mark.column, "YAML syntax: " + e.msg};
}

// Size, characters and limits, before any tree is built: a parse of its own.
void check_yaml_text(const std::string& text, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw YamlTextError{-1, -1, "larger than " + size_text(limits.max_bytes) + ", the limit on YAML input"};
  }
  check_characters(text);
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    LimitCheck check(limits);
    parser.HandleNextDocument(check);
  } catch (const YAML::Exception& e) {
    throw syntax_error(e);
  }
}

}  // namespace

namespace {
struct KeptTrees {
  bool keeping = false;                     // this process keeps a tree of each text it parses
  bool taking = false;                      // a forked process: a kept tree is handed out once
  std::map<std::string, YAML::Node> trees;  // by text
  size_t bytes = 0;                         // of the texts kept, at most 4 MiB
};
KeptTrees& kept_trees() {
  static KeptTrees k;
  return k;
}
}  // namespace

KeptYamlTrees::KeptYamlTrees() {
  KeptTrees& k = kept_trees();
  if (k.keeping) throw std::logic_error("KeptYamlTrees: one at a time");
  k.keeping = true;
}

KeptYamlTrees::~KeptYamlTrees() {
  KeptTrees& k = kept_trees();
  k.keeping = false;
  if (!k.taking) {  // a forked process that took them keeps what it has not loaded yet
    k.trees.clear();
    k.bytes = 0;
  }
}

size_t KeptYamlTrees::count() { return kept_trees().trees.size(); }

void KeptYamlTrees::take() {
  kept_trees().keeping = false;
  kept_trees().taking = true;
}

YAML::Node load_yaml_text(const std::string& text, const YamlLimits& limits) {
  // The texts (with their limits) that passed the checks in this process, or in the sweep
  // it was forked from: a sweep loads one scenario text and one platform text at every
  // point. A few, so that no input can grow it.
  static std::set<std::string> passed;
  const std::string key = std::to_string(limits.max_bytes) + "," + std::to_string(limits.max_depth) + "," +
                          std::to_string(limits.max_nodes) + "\n" + text;
  if (passed.count(key) == 0) {
    check_yaml_text(text, limits);
    if (passed.size() >= 16) passed.clear();
    passed.insert(key);
  }
  KeptTrees& kept = kept_trees();
  if (kept.taking) {
    const auto it = kept.trees.find(text);
    if (it != kept.trees.end()) {
      YAML::Node tree = it->second;  // this process's own copy: nobody else sees its changes
      kept.trees.erase(it);
      return tree;
    }
  }
  try {
    YAML::Node tree = YAML::Load(text);
    if (kept.keeping && kept.bytes + text.size() <= (size_t{4} << 20)) {
      const auto at = kept.trees.lower_bound(text);
      if (at == kept.trees.end() || at->first != text) {
        kept.trees.emplace_hint(at, text, YAML::Load(text));
        kept.bytes += text.size();
      }
    }
    return tree;
  } catch (const YAML::Exception& e) {
    throw syntax_error(e);
  }
}

ConfigNode::ConfigNode(YAML::Node node, std::shared_ptr<ConfigSource> source, std::string path,
                       std::string fallback_where)
    : node_(std::in_place, node),
      source_(std::move(source)),
      path_(std::move(path)),
      fallback_where_(std::move(fallback_where)) {}

ConfigNode& ConfigNode::operator=(const ConfigNode& o) {
  if (this == &o) return *this;
  node_.reset();
  node_.emplace(*o.node_);
  source_ = o.source_;
  path_ = o.path_;
  fallback_where_ = o.fallback_where_;
  return *this;
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : dotted) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

std::string ConfigNode::where() const {
  if (source_) {
    // The deepest overridden ancestor (or the path itself) names the override.
    std::string p = path_;
    while (true) {
      auto it = source_->origins.find(p);
      if (it != source_->origins.end()) return it->second.value;
      auto dot = p.rfind('.');
      if (dot == std::string::npos) break;
      p.resize(dot);
    }
  }
  if (node_->IsDefined() && source_) {
    YAML::Mark m = node_->Mark();
    if (m.line >= 0) {
      return source_->file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    }
  }
  if (!fallback_where_.empty()) return fallback_where_;
  return source_ ? source_->file : std::string();
}

std::string ConfigNode::key_where(const std::string& key) const {
  if (is_map() && source_) {
    for (const auto& kv : *node_) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        YAML::Mark m = kv.first.Mark();
        if (m.line >= 0) {
          return source_->file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
        }
      }
    }
  }
  return (*this)[key].where();
}

ConfigNode ConfigNode::operator[](const std::string& key) const {
  std::string child_path = join_path(path_, key);
  if (!is_map()) return ConfigNode(YAML::Node(YAML::NodeType::Undefined), source_, child_path, where());
  const YAML::Node& cn = *node_;
  return ConfigNode(cn[key], source_, child_path, where());
}

ConfigNode ConfigNode::operator[](size_t index) const {
  std::string child_path = path_ + "[" + std::to_string(index) + "]";
  if (!is_list() || index >= node_->size()) {
    return ConfigNode(YAML::Node(YAML::NodeType::Undefined), source_, child_path, where());
  }
  const YAML::Node& cn = *node_;
  return ConfigNode(cn[index], source_, child_path, where());
}

ConfigNode ConfigNode::at_path(const std::string& dotted) const {
  ConfigNode n = *this;
  for (const auto& part : split_path(dotted)) n = n[part];
  return n;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  if (!is_map()) return out;
  for (const auto& kv : *node_) {
    if (!kv.first.IsScalar()) {
      ConfigNode(kv.first, source_, path_).fail("map keys must be plain names");
    }
    out.push_back(kv.first.Scalar());
  }
  return out;
}

std::vector<ConfigNode> ConfigNode::items() const {
  std::vector<ConfigNode> out;
  if (!is_list()) return out;
  for (size_t i = 0; i < node_->size(); ++i) out.push_back((*this)[i]);
  return out;
}

std::string ConfigNode::scalar(const char* what) const {
  if (!node_->IsDefined() || node_->IsNull()) fail(std::string("missing value (expected ") + what + ")");
  if (!is_scalar()) {
    fail(std::string("expected ") + what + ", got a " + (node_->IsMap() ? "mapping" : "list"));
  }
  return node_->Scalar();
}

void ConfigNode::fail(const std::string& message) const { throw ConfigError(where(), path_, message); }

void ConfigNode::expect_keys(const std::vector<std::string>& allowed) const {
  if (!is_map()) fail("expected a mapping");
  for (const auto& kv : *node_) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (ok) continue;
    std::string msg = "unknown key '" + key + "'";
    std::string hint = did_you_mean(key, allowed);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    ConfigNode(kv.first, source_, join_path(path_, key)).fail(msg);
  }
}

ConfigNode parse_yaml(const std::string& text, const std::string& file_name, const YamlLimits& limits) {
  auto source = std::make_shared<ConfigSource>();
  source->file = file_name;
  try {
    return ConfigNode(load_yaml_text(text, limits), source, "");
  } catch (const YamlTextError& e) {
    std::string where = file_name;
    if (e.line >= 0) where += ":" + std::to_string(e.line + 1) + ":" + std::to_string(e.column + 1);
    throw ConfigError(where, "", e.message);
  }
}

std::string read_yaml_file(const std::string& path, const YamlLimits& limits) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path, "", "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", "cannot open file");
  // Never more than the limit (and one byte to know it is exceeded): /dev/zero is a file too.
  // Read in chunks: a buffer of the whole limit would cost every load its zeroing.
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= limits.max_bytes) {
    const size_t want = std::min(sizeof chunk, limits.max_bytes + 1 - text.size());
    in.read(chunk, static_cast<std::streamsize>(want));
    if (in.bad()) throw ConfigError(path, "", "cannot read file");
    text.append(chunk, static_cast<size_t>(in.gcount()));
    if (static_cast<size_t>(in.gcount()) < want) break;
  }
  if (text.size() > limits.max_bytes) {
    throw ConfigError(path, "", "the file is larger than " + size_text(limits.max_bytes) + ", the limit on YAML input");
  }
  return text;
}

ConfigNode load_yaml_file(const std::string& path, const YamlLimits& limits) {
  return parse_yaml(read_yaml_file(path, limits), path, limits);
}

std::string override_key_origin(const ConfigNode& root, const std::string& path) {
  if (!root.source()) return "";
  auto it = root.source()->origins.find(path);
  return it == root.source()->origins.end() ? std::string() : it->second.key;
}

void set_by_path(ConfigNode& root, const std::string& dotted, const YAML::Node& value,
                 const std::string& origin, const std::string& value_origin) {
  auto parts = split_path(dotted);
  for (const auto& p : parts) {
    if (p.empty()) throw ConfigError(origin, dotted, "empty segment in key path");
  }
  YAML::Node cur = root.yaml();  // shares the tree (yaml-cpp nodes are references)
  std::string path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path = join_path(path, parts[i]);
    YAML::Node next = cur[parts[i]];
    if (next.IsDefined() && !next.IsNull() && !next.IsMap()) {
      throw ConfigError(origin, path,
                        std::string("cannot set '") + dotted + "': '" + path + "' is a " +
                            (next.IsSequence() ? "list" : "single value") + ", not a mapping");
    }
    if (!next.IsDefined() || next.IsNull()) {
      cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      // A mapping made here has no place in a file: errors about it name the override.
      root.source()->origins.emplace(path, ConfigOrigin{origin, origin});
    }
    YAML::Node child = cur[parts[i]];
    cur.reset(child);
  }
  cur[parts.back()] = value;
  root.source()->origins[dotted] = ConfigOrigin{origin, value_origin.empty() ? origin : value_origin};
}

}  // namespace quiesce
