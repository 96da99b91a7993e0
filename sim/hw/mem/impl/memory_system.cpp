#include <stdexcept>

#include "sim/hw/mem/internal/directory.h"
#include "sim/hw/mem/internal/l1_cache.h"
#include "sim/hw/mem/memory.h"

namespace quiesce {

const char* mesi_name(Mesi s) {
  switch (s) {
    case Mesi::I: return "I";
    case Mesi::S: return "S";
    case Mesi::E: return "E";
    case Mesi::M: return "M";
  }
  return "?";
}

const char* coh_req_name(CohReq r) {
  switch (r) {
    case CohReq::GetS: return "GetS";
    case CohReq::GetM: return "GetM";
    case CohReq::Upgrade: return "Upgrade";
  }
  return "?";
}

namespace {

int log2_exact(int64_t v) {
  int s = 0;
  while ((int64_t{1} << s) < v) ++s;
  return s;
}

}  // namespace

MemorySystem::MemorySystem(sc_core::sc_module_name name, const Topology& topo, const MemParams& params,
                           const DistanceLatencies& dist, const std::vector<Time>& core_periods,
                           Time base_period, StatRegistry* stats)
    : sc_module(name), line_shift_(log2_exact(params.line_size().value)), registry_(stats), topo_(topo) {
  mem_internal::LineLatencies lat{};
  lat.llc_hit = params.llc_hit().to_ps(base_period);
  lat.dram = params.dram().to_ps(base_period);
  for (const Latency& l : dist.handoff) lat.handoff.push_back(l.to_ps(base_period));
  for (const Latency& l : dist.upgrade) lat.upgrade.push_back(l.to_ps(base_period));
  const size_t nd = topo.distance_names().size();
  lat.handoff.resize(nd, 0);
  lat.upgrade.resize(nd, 0);
  lat.handoff[kSameCpu] = lat.upgrade[kSameCpu] = 0;
  const Time smt = lat.handoff[kSmtSibling];
  dir_ = std::make_unique<mem_internal::Directory>("directory", topo, lat, line_shift_, stats);

  const int64_t line = params.line_size().value;
  const int64_t ways = params.l1_ways();
  const int sets = static_cast<int>(std::max<int64_t>(1, params.l1_size().value / (line * ways)));
  for (int c = 0; c < topo.physical_cores(); ++c) {
    const int first_cpu = c * topo.threads_per_core;
    Time hit = params.l1_hit().value * core_periods.at(static_cast<size_t>(first_cpu));
    auto l1 = std::make_unique<mem_internal::L1Cache>(("l1_" + std::to_string(c)).c_str(), c, topo.threads_per_core,
                                                      sets, static_cast<int>(ways), line_shift_, hit, smt,
                                                      dir_.get(), stats);
    l1->out_.bind(dir_->in_);
    dir_->attach(l1.get());
    l1s_.push_back(std::move(l1));
  }
}

MemorySystem::~MemorySystem() = default;

MemorySystem::Port& MemorySystem::port(int cpu) {
  return l1s_.at(static_cast<size_t>(topo_.core_of(cpu)))->in_;
}

void MemorySystem::watch(Addr a, LineWatcher* w) { dir_->watch(line_of(a), w); }

uint64_t MemorySystem::line_version(Addr a) const { return dir_->version(line_of(a)); }

Time MemorySystem::line_write_done(Addr a) const { return dir_->write_done(line_of(a)); }

void MemorySystem::track(Addr a, const std::string& name) {
  dir_->track(line_of(a), std::make_unique<mem_internal::TrackedLine>(registry_, name));
}

Mesi MemorySystem::state(int cpu, Addr a) const {
  return l1s_.at(static_cast<size_t>(topo_.core_of(cpu)))->state(line_of(a));
}

uint64_t MemorySystem::peek(Addr a) const { return dir_->read(a); }

void MemorySystem::poke(Addr a, uint64_t v) { dir_->word(a) = v; }

Time MemorySystem::transfer_latency(int from, int to) const { return dir_->handoff(from, to); }

}  // namespace quiesce
