#include "sim/base/params.h"

#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

namespace quiesce {

Time Frequency::period_ps() const { return static_cast<Time>(std::llround(1e12 / hz)); }

ParamBase::ParamBase(ParamGroup* group, std::string name, std::string def, std::string doc)
    : name_(std::move(name)), def_(std::move(def)), doc_(std::move(doc)) {
  group->add(this);
}

ParamGroup::ParamGroup(std::string prefix, std::string doc)
    : prefix_(std::move(prefix)), doc_(std::move(doc)) {}

ConfigNode config_from_text(const std::string& text, const std::string& origin,
                            const std::string& path) {
  auto source = std::make_shared<ConfigSource>();
  source->file = origin;
  source->origins[path] = ConfigOrigin{origin, origin};
  // Defaults are the program's own few texts, parsed once each: every scenario load reads
  // every default, and a sweep's validation loads the scenario once per value.
  static std::mutex mutex;
  static std::map<std::string, YAML::Node> parsed;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = parsed.find(text);
  if (it == parsed.end()) {
    try {
      it = parsed.emplace(text, load_yaml_text(text)).first;
    } catch (const YamlTextError& e) {
      throw ConfigError(origin, path, e.message);
    }
  }
  return ConfigNode(YAML::Clone(it->second), source, path);
}

void ParamGroup::load(const ConfigNode& root) {
  for (ParamBase* p : params_) {
    std::string full = full_name(*p);
    ConfigNode node = root.at_path(full);
    if (!node.present()) node = config_from_text(p->default_text(), "default of " + full, full);
    p->load(node);
  }
}

namespace {

std::string number_text(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

void check_range(const ConfigNode& node, double v, bool has, double lo, double hi,
                 const std::string& shown) {
  if (!has) return;
  if (v < lo || v > hi) {
    node.fail("value " + shown + " is out of range [" + number_text(lo) + ", " + number_text(hi) + "]");
  }
}

template <class F>
auto with_location(const ConfigNode& node, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const UnitError& e) {
    node.fail(e.what());
  }
}

}  // namespace

// --- traits -------------------------------------------------------------------------

template <>
struct ParamTraits<int64_t> {
  static std::string show(int64_t v) { return std::to_string(v); }
  static std::string name() { return "integer"; }
  static int64_t parse(const ConfigNode& n) {
    std::string s = n.scalar("an integer");
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') n.fail("expected an integer, got \"" + s + "\"");
    if (errno == ERANGE) n.fail("integer \"" + s + "\" is too large");
    return v;
  }
  static double num(int64_t v) { return static_cast<double>(v); }
};
template <>
struct ParamTraits<double> {
  static std::string show(double v) { return number_text(v); }
  static std::string name() { return "number"; }
  static double parse(const ConfigNode& n) {
    std::string s = n.scalar("a number");
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v)) n.fail("expected a number, got \"" + s + "\"");
    return v;
  }
  static double num(double v) { return v; }
};
template <>
struct ParamTraits<bool> {
  static std::string show(bool v) { return v ? "true" : "false"; }
  static std::string name() { return "bool"; }
  static bool parse(const ConfigNode& n) {
    std::string s = n.scalar("true or false");
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    n.fail("expected true or false, got \"" + s + "\"");
  }
  static double num(bool v) { return v; }
};
template <>
struct ParamTraits<std::string> {
  static std::string show(const std::string& v) { return v; }
  static std::string name() { return "text"; }
  static std::string parse(const ConfigNode& n) { return n.present() ? n.scalar("text") : std::string(); }
  static double num(const std::string&) { return 0; }
};
template <>
struct ParamTraits<Choice> {
  static std::string show(const Choice& v) { return v.value; }
  static std::string name() { return "choice"; }
  static Choice parse(const ConfigNode& n) { return {n.scalar("one of the listed choices")}; }
  static double num(const Choice&) { return 0; }
};
template <>
struct ParamTraits<Cycles> {
  static std::string show(Cycles v) { return std::to_string(v.value) + " cycles"; }
  static std::string name() { return "cycles"; }
  static Cycles parse(const ConfigNode& n) {
    return with_location(n, [&] { return Cycles{parse_cycles(n.scalar("a cycle count"))}; });
  }
  static double num(Cycles v) { return static_cast<double>(v.value); }
};
template <>
struct ParamTraits<Latency> {
  static std::string show(Latency v) { return v.cycles ? number_text(v.value) + " cycles" : format_time(static_cast<Time>(v.value)); }
  static std::string name() { return "latency"; }
  static Latency parse(const ConfigNode& n) {
    return with_location(n, [&] { return parse_latency(n.scalar("a latency such as 40ns or 80 cycles")); });
  }
  static double num(Latency v) { return v.value; }
};
template <>
struct ParamTraits<Frequency> {
  static std::string show(Frequency v) { return number_text(v.hz / 1e6) + "MHz"; }
  static std::string name() { return "frequency"; }
  static Frequency parse(const ConfigNode& n) {
    return with_location(n, [&] { return Frequency{parse_frequency(n.scalar("a frequency such as 2GHz"))}; });
  }
  static double num(Frequency v) { return v.hz; }
};
template <>
struct ParamTraits<Bytes> {
  static std::string show(Bytes v) { return std::to_string(v.value) + "B"; }
  static std::string name() { return "size"; }
  static Bytes parse(const ConfigNode& n) {
    return with_location(n, [&] { return Bytes{parse_size(n.scalar("a size such as 32KiB"))}; });
  }
  static double num(Bytes v) { return static_cast<double>(v.value); }
};
template <>
struct ParamTraits<Distribution> {
  static std::string show(const Distribution& d) { return d.describe(); }
  static std::string name() { return "distribution"; }
  static Distribution parse(const ConfigNode& n) { return Distribution::parse(n); }
  static double num(const Distribution& d) { return d.mean(); }
};

template <>
struct ParamTraits<Table> {
  static std::string show(const Table& t) {
    if (!t.node.present()) return "{}";
    YAML::Emitter e;
    e.SetMapFormat(YAML::Flow);
    e.SetSeqFormat(YAML::Flow);
    e << t.node.yaml();
    return e.c_str();
  }
  static std::string name() { return "table"; }
  static Table parse(const ConfigNode& n) {
    if (n.present() && !n.is_map() && !n.is_list()) n.fail("expected a mapping or a list");
    return Table{n};
  }
  static double num(const Table&) { return 0; }
};

// Durations are Time wrapped so that overloads don't confuse them with integers.
template <>
struct ParamTraits<Duration> {
  static std::string show(Duration v) { return format_time(v.ps); }
  static std::string name() { return "time"; }
  static Duration parse(const ConfigNode& n) {
    return with_location(n, [&] { return Duration{parse_time(n.scalar("a time such as 50ms"))}; });
  }
  static double num(Duration v) { return static_cast<double>(v.ps); }
};

template <class T>
std::string Param<T>::value_text() const {
  return ParamTraits<T>::show(value_);
}

template <class T>
std::string Param<T>::type_name() const {
  return ParamTraits<T>::name();
}

template <class T>
std::string Param<T>::range_text() const {
  if (!choices_.empty()) {
    std::string s;
    for (const auto& c : choices_) s += (s.empty() ? "" : " | ") + c;
    return s;
  }
  if (!has_range_) return "";
  return "[" + number_text(lo_) + ", " + number_text(hi_) + "]";
}

template <class T>
void Param<T>::load(const ConfigNode& node) {
  T v = ParamTraits<T>::parse(node);
  if constexpr (std::is_same_v<T, Choice>) {
    bool ok = false;
    for (const auto& c : choices_) ok = ok || c == v.value;
    if (!ok) {
      std::string msg = "unknown value '" + v.value + "' (choose " + range_text() + ")";
      std::string hint = did_you_mean(v.value, choices_);
      if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
      node.fail(msg);
    }
  } else {
    check_range(node, ParamTraits<T>::num(v), has_range_, lo_, hi_, node.is_scalar() ? node.scalar() : "");
  }
  value_ = std::move(v);
}

template class Param<int64_t>;
template class Param<double>;
template class Param<bool>;
template class Param<std::string>;
template class Param<Choice>;
template class Param<Cycles>;
template class Param<Latency>;
template class Param<Frequency>;
template class Param<Bytes>;
template class Param<Duration>;
template class Param<Distribution>;
template class Param<Table>;

// --- unknown keys ---------------------------------------------------------------------

namespace {

void check_level(const ConfigNode& node, const std::string& path, const std::set<std::string>& leaves,
                 const std::set<std::string>& inner) {
  if (!node.is_map()) {
    node.fail("expected a mapping of parameters");
  }
  std::vector<std::string> allowed;
  std::string prefix = path.empty() ? "" : path + ".";
  for (const auto& set : {leaves, inner}) {
    for (const auto& p : set) {
      if (p.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rest = p.substr(prefix.size());
      if (rest.find('.') == std::string::npos) allowed.push_back(rest);
    }
  }
  for (const auto& key : node.keys()) {
    std::string full = join_path(path, key);
    ConfigNode child = node[key];
    if (leaves.count(full)) continue;
    if (inner.count(full)) {
      if (child.present()) check_level(child, full, leaves, inner);
      continue;
    }
    std::string msg = "unknown key '" + key + "'";
    std::string hint = did_you_mean(key, allowed);
    if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
    // An overridden key has no place in the file: name the override instead.
    std::string where = override_key_origin(node, full);
    if (where.empty()) where = node.key_where(key);
    throw ConfigError(where, full, msg);
  }
}

}  // namespace

void check_known_keys(const ConfigNode& root, const std::vector<const ParamGroup*>& groups,
                      const std::vector<std::string>& extra) {
  std::set<std::string> leaves(extra.begin(), extra.end());
  std::set<std::string> inner;
  for (const ParamGroup* g : groups) {
    for (const ParamBase* p : g->params()) {
      std::string full = g->full_name(*p);
      leaves.insert(full);
      auto parts = split_path(full);
      std::string acc;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        acc = join_path(acc, parts[i]);
        inner.insert(acc);
      }
    }
  }
  if (!root.present()) return;
  check_level(root, "", leaves, inner);
}

std::vector<ParamRow> describe(const ParamGroup& group) {
  std::vector<ParamRow> rows;
  for (const ParamBase* p : group.params()) {
    rows.push_back({group.full_name(*p), p->type_name(), p->default_text(), p->range_text(), p->doc()});
  }
  return rows;
}

}  // namespace quiesce
