#include "sim/base/config.h"

#include <fstream>
#include <sstream>

namespace quiesce {

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

ConfigNode parse_yaml(const std::string& text, const std::string& file_name) {
  auto source = std::make_shared<ConfigSource>();
  source->file = file_name;
  try {
    return ConfigNode(YAML::Load(text), source, "");
  } catch (const YAML::Exception& e) {
    std::string where = file_name;
    if (e.mark.line >= 0) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    throw ConfigError(where, "", "YAML syntax: " + e.msg);
  }
}

ConfigNode load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, "", "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_yaml(ss.str(), path);
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
    if (!next.IsDefined() || next.IsNull()) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node child = cur[parts[i]];
    cur.reset(child);
  }
  cur[parts.back()] = value;
  root.source()->origins[dotted] = ConfigOrigin{origin, value_origin.empty() ? origin : value_origin};
}

}  // namespace quiesce
