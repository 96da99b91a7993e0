#include "sim/kernel/trace.h"

#include <algorithm>

namespace quiesce::kernel {

Tracer::Tracer(Time window, size_t max_bytes, size_t max_events)
    : window_(window), max_bytes_(max_bytes), max_events_(max_events) {
  names_.push_back({"", 0});
}

// A heap string costs its capacity and the terminator rounded up to malloc's 16-byte chunks
// plus its header; the Name, the map node (key, id, next pointer, cached hash, malloc header)
// and a bucket pointer come on top.
size_t Tracer::name_cost(const std::string& text) {
  constexpr size_t kSso = 15;
  const size_t heap = text.capacity() > kSso ? (text.capacity() + 1 + 8 + 15) / 16 * 16 : 0;
  constexpr size_t kNode = (sizeof(void*) + sizeof(std::string_view) + sizeof(uint32_t) + sizeof(size_t) + 8 + 15) / 16 * 16;
  return heap + sizeof(Name) + kNode + sizeof(void*);
}

uint32_t Tracer::intern(std::string_view text) {
  if (text.empty()) return 0;
  auto it = name_ids_.find(text);
  if (it != name_ids_.end()) {
    ++names_[it->second].users;
    return it->second;
  }
  uint32_t id;
  if (!free_names_.empty()) {
    id = free_names_.back();
    free_names_.pop_back();
  } else {
    id = static_cast<uint32_t>(names_.size());
    names_.emplace_back();
  }
  Name& n = names_[id];
  n.text.assign(text.data(), text.size());
  n.text.shrink_to_fit();
  n.users = 1;
  name_ids_.emplace(std::string_view(n.text), id);
  name_bytes_ += name_cost(n.text);
  return id;
}

void Tracer::release(uint32_t id) {
  if (id == 0) return;
  Name& n = names_[id];
  if (--n.users > 0) return;
  name_bytes_ -= name_cost(n.text);
  name_ids_.erase(std::string_view(n.text));
  std::string().swap(n.text);
  free_names_.push_back(id);
}

void Tracer::drop_front() {
  release(events_.front().name);
  events_.pop_front();
}

void Tracer::record(TraceEvent e, std::string_view name) {
  if (stopped_) return;
  if (trigger_ >= 0 && window_ > 0 && e.t > trigger_) {
    stopped_ = true;
    return;
  }
  newest_ = std::max(newest_, e.t);
  e.name = intern(name);
  events_.push_back(e);
  // A window keeps the last `window` of time (events arrive nearly in time order: cores
  // run a little ahead of each other, so trim by the newest time seen).
  if (window_ > 0 && trigger_ < 0) {
    while (!events_.empty() && events_.front().t < newest_ - window_) drop_front();
  }
  while (events_.size() > max_events_ || (events_.size() > 1 && bytes() > max_bytes_)) {
    drop_front();
    ++dropped_;
  }
}

void Tracer::trigger(Time at) {
  if (trigger_ >= 0) return;
  trigger_ = at;
  if (window_ > 0) {
    // Events of cores that ran ahead of the trigger fall outside the window (anywhere near
    // the end: events arrive only nearly in time order).
    auto after = [at](const TraceEvent& e) { return e.t > at; };
    for (const TraceEvent& e : events_) {
      if (after(e)) release(e.name);
    }
    events_.erase(std::remove_if(events_.begin(), events_.end(), after), events_.end());
  }
}

}  // namespace quiesce::kernel
