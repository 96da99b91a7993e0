#include "sim/kernel/trace.h"

#include <algorithm>

namespace quiesce::kernel {

Tracer::Tracer(Time window, size_t max_events) : window_(window), max_events_(max_events) {}

void Tracer::record(TraceEvent e) {
  if (stopped_) return;
  if (trigger_ >= 0 && window_ > 0 && e.t > trigger_) {
    stopped_ = true;
    return;
  }
  newest_ = std::max(newest_, e.t);
  events_.push_back(std::move(e));
  // A window keeps the last `window` of time (events arrive nearly in time order: cores
  // run a little ahead of each other, so trim by the newest time seen).
  if (window_ > 0 && trigger_ < 0) {
    while (!events_.empty() && events_.front().t < newest_ - window_) events_.pop_front();
  }
  while (events_.size() > max_events_) {
    events_.pop_front();
    ++dropped_;
  }
}

void Tracer::trigger(Time at) {
  if (trigger_ >= 0) return;
  trigger_ = at;
  if (window_ > 0) {
    // Events of cores that ran ahead of the trigger fall outside the window.
    while (!events_.empty() && events_.back().t > at) events_.pop_back();
  }
}

}  // namespace quiesce::kernel
