#pragma once
// Declared parameters (after Sparta's ParameterSet and SST's documented params). A
// component owns a ParamGroup whose Param<T> members each declare a dotted name, a
// default, a unit and a one-line doc. load() reads them from a config tree, validating
// type, unit and range, and every error names file:line:column and the key. The same
// declarations print the `quiesce list params` table, so docs cannot drift from code.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/base/config.h"
#include "sim/base/dist.h"
#include "sim/base/units.h"

namespace quiesce {

struct Frequency {
  double hz = 0;
  Time period_ps() const;  // rounded to the nearest picosecond
};
struct Duration {
  Time ps = 0;
};
struct Bytes {
  int64_t value = 0;
};
struct Cycles {
  int64_t value = 0;
};
struct Choice {
  std::string value;
};
// A mapping or list whose shape the owning component checks itself (e.g. a table keyed
// by names only the platform knows). Empty when neither the file nor the default gives one.
struct Table {
  ConfigNode node;
};

// How one value type is parsed, printed and described.
template <class T>
struct ParamTraits;

class ParamGroup;

class ParamBase {
 public:
  ParamBase(ParamGroup* group, std::string name, std::string def, std::string doc);
  virtual ~ParamBase() = default;
  ParamBase(const ParamBase&) = delete;
  ParamBase& operator=(const ParamBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& default_text() const { return def_; }
  const std::string& doc() const { return doc_; }
  virtual std::string type_name() const = 0;
  virtual std::string range_text() const { return ""; }
  virtual std::string value_text() const = 0;  // the loaded value, with its unit
  // Parses from `node` (which may be absent: then the default applies).
  virtual void load(const ConfigNode& node) = 0;

 private:
  std::string name_;
  std::string def_;
  std::string doc_;
};

template <class T>
class Param : public ParamBase {
 public:
  Param(ParamGroup* group, std::string name, std::string def, std::string doc)
      : ParamBase(group, std::move(name), std::move(def), std::move(doc)) {}
  // Numeric range (inclusive) for types that have one; choices for Choice.
  Param& range(double lo, double hi) {
    lo_ = lo;
    hi_ = hi;
    has_range_ = true;
    return *this;
  }
  Param& choices(std::vector<std::string> c) {
    choices_ = std::move(c);
    return *this;
  }
  const T& operator()() const { return value_; }
  std::string type_name() const override;
  std::string range_text() const override;
  std::string value_text() const override;
  void load(const ConfigNode& node) override;
  void set(T v) { value_ = std::move(v); }

 private:
  T value_{};
  double lo_ = 0, hi_ = 0;
  bool has_range_ = false;
  std::vector<std::string> choices_;
};

extern template class Param<int64_t>;
extern template class Param<double>;
extern template class Param<bool>;
extern template class Param<std::string>;
extern template class Param<Choice>;
extern template class Param<Cycles>;
extern template class Param<Latency>;
extern template class Param<Frequency>;
extern template class Param<Bytes>;
extern template class Param<Duration>;
extern template class Param<Distribution>;
extern template class Param<Table>;

// A component's parameters, all under one dotted prefix ("irq", "mem.l1", "sim").
class ParamGroup {
 public:
  ParamGroup(std::string prefix, std::string doc);
  ParamGroup(const ParamGroup&) = delete;
  ParamGroup& operator=(const ParamGroup&) = delete;
  virtual ~ParamGroup() = default;

  const std::string& prefix() const { return prefix_; }
  const std::string& doc() const { return doc_; }
  const std::vector<ParamBase*>& params() const { return params_; }
  std::string full_name(const ParamBase& p) const { return join_path(prefix_, p.name()); }

  // Reads every parameter from `root` (the tree the prefix is relative to).
  void load(const ConfigNode& root);
  void add(ParamBase* p) { params_.push_back(p); }

 private:
  std::string prefix_;
  std::string doc_;
  std::vector<ParamBase*> params_;
};

// Every key under `root` must be a declared parameter path of one of `groups` (or lie on
// the way to one); `extra` names further accepted top-level keys. Unknown keys fail with a
// "did you mean" drawn from the keys allowed at that level.
void check_known_keys(const ConfigNode& root, const std::vector<const ParamGroup*>& groups,
                      const std::vector<std::string>& extra = {});

// A row of the `quiesce list params` table.
struct ParamRow {
  std::string name, type, def, range, doc;
};
std::vector<ParamRow> describe(const ParamGroup& group);

// Parses a default text as YAML (each distinct text once), as a ConfigNode with an origin.
ConfigNode config_from_text(const std::string& text, const std::string& origin,
                            const std::string& path);

}  // namespace quiesce
