#include <algorithm>
#include <functional>

#include "sim/hw/irq/controller.h"

namespace quiesce {

const char* irq_kind_name(IrqKind k) {
  switch (k) {
    case IrqKind::Sgi: return "sgi";
    case IrqKind::Ppi: return "ppi";
    case IrqKind::Spi: return "spi";
  }
  return "?";
}

InterruptController::InterruptController(sc_core::sc_module_name name, int cpus,
                                         const IrqParams& params, const FaultParams& faults,
                                         uint64_t seed, StatRegistry* stats)
    : sc_module(name),
      stats_(stats, "irq"),
      num_ids_(kFirstSpi + static_cast<int>(params.spis())),
      ipi_latency_(params.ipi_latency()),
      ipi_floor_(params.ipi_latency().lower_bound()),
      receive_cost_(params.ipi_receive_cost().value),
      rng_(seed, "irq.ipi"),
      ipi_loss_(faults.ipi_loss()),
      ipi_delay_p_(faults.ipi_delay_probability()),
      ipi_dup_p_(faults.ipi_duplicate()),
      ipi_delay_(faults.ipi_delay()),
      ipi_dup_gap_(faults.ipi_duplicate_gap()),
      stuck_id_(static_cast<IrqId>(faults.stuck_irq())),
      stuck_cpu_(static_cast<int>(faults.stuck_cpu())),
      stuck_at_(faults.stuck_at().ps),
      fault_rng_(seed, "fault.ipi"),
      cpus_(static_cast<size_t>(cpus)) {
  for (auto& c : cpus_) {
    c.pending.assign(static_cast<size_t>(num_ids_), 0);
    c.active.assign(static_cast<size_t>(num_ids_), 0);
    c.enabled.assign(static_cast<size_t>(num_ids_), 1);
    c.priority.assign(static_cast<size_t>(num_ids_), static_cast<int>(params.default_priority()));
    c.pending_info.assign(static_cast<size_t>(num_ids_), IrqAck{});
    c.candidates.assign(static_cast<size_t>((num_ids_ + 63) / 64), 0);
  }
  if (stuck_id_ >= 0) push(stuck_cpu_, Arrival{stuck_at_, seq_++, stuck_id_, -1, stuck_at_});
}

void InterruptController::set_ipi_path(const Topology& topo,
                                       const std::vector<std::optional<Distribution>>& by_distance,
                                       Time receiver_fixed) {
  topo_ = topo;
  receiver_fixed_ = receiver_fixed;
  by_distance_store_.clear();
  by_distance_store_.reserve(by_distance.size());
  by_distance_.assign(topo.distance_names().size(), &ipi_latency_);
  ipi_floor_ = ipi_latency_.lower_bound();
  for (size_t d = 0; d < by_distance.size() && d < by_distance_.size(); ++d) {
    if (!by_distance[d]) continue;
    by_distance_store_.push_back(*by_distance[d]);
    by_distance_[d] = &by_distance_store_.back();
    ipi_floor_ = std::min(ipi_floor_, by_distance_store_.back().lower_bound());
  }
}

const Distribution& InterruptController::ipi_latency_between(int src, int target) const {
  return by_distance_.empty() ? ipi_latency_ : *by_distance_[topo_.distance(src, target)];
}

void InterruptController::force_ipis(const std::vector<ForcedIpi>& forced) {
  for (const auto& f : forced) forced_[{f.from, f.to, f.index}] = f.latency;
}

Time InterruptController::send_sgi(int src, int target, IrqId id, Time raise_time, Time send_cost) {
  ++sgis_sent;
  const Distribution& lat = ipi_latency_between(src, target);
  // The sample is end to end: the receiver's own entry cycles come off it (never below
  // the send itself).
  const Time drawn = lat.sample(rng_);
  Time latency = drawn;
  uint64_t index = 0;
  bool forced = false;
  if (record_sends_ || !forced_.empty()) {
    index = pair_sent_[{src, target}]++;
    auto it = forced_.find({src, target, index});
    if (it != forced_.end()) {
      latency = it->second;
      forced = true;
    }
  }
  const Time flight = latency - receiver_fixed_;
  if (flight < send_cost) ++sgis_floored;
  Time arrival = raise_time + std::max(send_cost, flight);
  // Faults draw only when on, so that all-zero probabilities leave every stream untouched.
  if (ipi_loss_ > 0 && fault_rng_.uniform() < ipi_loss_) {
    ++ipis_lost;
    return arrival;  // the sender cannot tell
  }
  if (ipi_delay_p_ > 0 && fault_rng_.uniform() < ipi_delay_p_) {
    ++ipis_delayed;
    arrival += ipi_delay_.sample(fault_rng_);
  }
  push(target, Arrival{arrival, seq_++, id, src, raise_time});
  if (record_sends_) sends_.push_back(SentIpi{src, target, index, id, raise_time, latency, arrival, drawn, forced});
  if (ipi_dup_p_ > 0 && fault_rng_.uniform() < ipi_dup_p_) {
    ++ipis_duplicated;
    push(target, Arrival{arrival + std::max<Time>(ipi_dup_gap_.sample(fault_rng_), 1), seq_++, id, src, raise_time});
  }
  return arrival;
}

void InterruptController::post(int cpu, IrqId id, Time arrival, Time raised) {
  ++posted;
  push(cpu, Arrival{arrival, seq_++, id, -1, raised});
}

void InterruptController::push(int cpu, const Arrival& a) {
  Cpu& c = at(cpu);
  if (a.id < 0 || a.id >= num_ids_) {
    throw std::out_of_range("interrupt id " + std::to_string(a.id) + " out of range");
  }
  c.inflight.push_back(a);
  std::push_heap(c.inflight.begin(), c.inflight.end(), std::greater<Arrival>());
  if (a.at < c.attention) c.attention = a.at;
  if (c.target) c.target->irq_posted(a.at);
}

void InterruptController::cancel(int cpu, IrqId id) {
  Cpu& c = at(cpu);
  auto it = std::remove_if(c.inflight.begin(), c.inflight.end(),
                           [id](const Arrival& a) { return a.id == id; });
  if (it == c.inflight.end()) return;
  c.inflight.erase(it, c.inflight.end());
  std::make_heap(c.inflight.begin(), c.inflight.end(), std::greater<Arrival>());
  refresh(c);
}

void InterruptController::absorb_arrivals(Cpu& c, Time now) {
  while (!c.inflight.empty() && c.inflight.front().at <= now) {
    std::pop_heap(c.inflight.begin(), c.inflight.end(), std::greater<Arrival>());
    Arrival a = c.inflight.back();
    c.inflight.pop_back();
    auto i = static_cast<size_t>(a.id);
    if (c.pending[i]) {
      ++merged;
      continue;
    }
    c.pending[i] = 1;
    c.pending_info[i] = IrqAck{a.id, a.source, a.raised, a.at};
    update_candidate(c, a.id);
  }
}

int InterruptController::running_priority(const Cpu& c) const {
  return c.active_stack.empty() ? kIdlePriority
                                : c.priority[static_cast<size_t>(c.active_stack.back())];
}

void InterruptController::update_candidate(Cpu& c, IrqId id) {
  auto i = static_cast<size_t>(id);
  uint64_t bit = uint64_t{1} << (id & 63);
  if (c.pending[i] && c.enabled[i] && !c.active[i]) {
    c.candidates[i >> 6] |= bit;
  } else {
    c.candidates[i >> 6] &= ~bit;
  }
}

IrqId InterruptController::best_deliverable(const Cpu& c) const {
  int best_prio = running_priority(c);
  IrqId best = -1;
  for (size_t w = 0; w < c.candidates.size(); ++w) {
    for (uint64_t bits = c.candidates[w]; bits; bits &= bits - 1) {
      IrqId id = static_cast<IrqId>(w * 64) + __builtin_ctzll(bits);
      int prio = c.priority[static_cast<size_t>(id)];
      if (prio < best_prio) {  // ascending ids: ties go to the lowest id
        best_prio = prio;
        best = id;
      }
    }
  }
  return best;
}

void InterruptController::refresh(Cpu& c) {
  if (best_deliverable(c) >= 0) {
    c.attention = 0;
  } else {
    c.attention = c.inflight.empty() ? kTimeMax : c.inflight.front().at;
  }
}

std::optional<IrqAck> InterruptController::acknowledge(int cpu, Time now) {
  Cpu& c = at(cpu);
  absorb_arrivals(c, now);
  IrqId id = best_deliverable(c);
  std::optional<IrqAck> out;
  if (id >= 0) {
    auto i = static_cast<size_t>(id);
    c.pending[i] = 0;
    c.active[i] = 1;
    update_candidate(c, id);
    c.active_stack.push_back(id);
    ++delivered;
    out = c.pending_info[i];
  }
  refresh(c);
  return out;
}

void InterruptController::record_entry(int, const IrqAck& ack, Time entry) {
  Time lat = entry - ack.raised;
  switch (irq_kind(ack.id)) {
    case IrqKind::Sgi: latency_sgi.record(lat); break;
    case IrqKind::Ppi: latency_ppi.record(lat); break;
    case IrqKind::Spi: latency_spi.record(lat); break;
  }
}

void InterruptController::poll(int cpu, Time now) {
  Cpu& c = at(cpu);
  absorb_arrivals(c, now);
  refresh(c);
}

void InterruptController::eoi(int cpu, IrqId id) {
  Cpu& c = at(cpu);
  auto i = static_cast<size_t>(id);
  if (!c.active[i]) throw std::logic_error("EOI of inactive interrupt " + std::to_string(id));
  c.active[i] = 0;
  update_candidate(c, id);
  auto it = std::find(c.active_stack.rbegin(), c.active_stack.rend(), id);
  c.active_stack.erase(std::next(it).base());
  refresh(c);
  if (id == stuck_id_ && cpu == stuck_cpu_ && c.target && c.target->local_now() >= stuck_at_) {
    // Level-triggered and still asserted: pending again at once, with nothing behind it.
    ++stuck_reasserts;
    const Time now = c.target->local_now();
    push(cpu, Arrival{now, seq_++, id, -1, now});
  }
}

void InterruptController::set_priority(int cpu, IrqId id, int priority) {
  Cpu& c = at(cpu);
  c.priority.at(static_cast<size_t>(id)) = priority;
  refresh(c);
}

void InterruptController::set_enabled(int cpu, IrqId id, bool enabled) {
  Cpu& c = at(cpu);
  c.enabled.at(static_cast<size_t>(id)) = enabled ? 1 : 0;
  update_candidate(c, id);
  refresh(c);
}

bool InterruptController::pending(int cpu, IrqId id) const {
  return cpus_.at(static_cast<size_t>(cpu)).pending.at(static_cast<size_t>(id)) != 0;
}

bool InterruptController::active(int cpu, IrqId id) const {
  return cpus_.at(static_cast<size_t>(cpu)).active.at(static_cast<size_t>(id)) != 0;
}

}  // namespace quiesce
