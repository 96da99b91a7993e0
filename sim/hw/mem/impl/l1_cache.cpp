#include "sim/hw/mem/internal/l1_cache.h"

#include <algorithm>
#include <new>

#include "sim/hw/mem/internal/directory.h"

namespace quiesce::mem_internal {

L1Cache::L1Cache(sc_core::sc_module_name name, int core, int threads, int sets, int ways,
                 int line_shift, Time hit_latency, Time smt_handoff, Directory* dir,
                 StatRegistry* stats)
    : sc_module(name),
      in_("in"),
      out_("out"),
      stats_(stats,
             (threads > 1 ? "core" + std::to_string(core) : "cpu" + std::to_string(core)) + ".l1"),
      core_(core),
      threads_(threads),
      sets_(sets),
      ways_(ways),
      line_shift_(line_shift),
      hit_(hit_latency),
      smt_handoff_(smt_handoff),
      dir_(dir),
      set_mask_(sets > 1 && (sets & (sets - 1)) == 0 ? static_cast<Addr>(sets - 1) : 0),
      ways_v_(new Way[static_cast<size_t>(sets) * static_cast<size_t>(ways)]),
      tags_(static_cast<Addr*>(
          std::calloc(static_cast<size_t>(sets) * static_cast<size_t>(ways), sizeof(Addr)))) {
  if (!tags_) throw std::bad_alloc();
  in_.bind(*this);
}

L1Cache::Way* L1Cache::find(Addr line) {
  const size_t base = set_base(line);
  const Addr* tags = &tags_[base];
  for (int i = 0; i < ways_; ++i) {
    if (tags[i] == line + 1) return &ways_v_[base + static_cast<size_t>(i)];
  }
  return nullptr;
}

const L1Cache::Way* L1Cache::find(Addr line) const { return const_cast<L1Cache*>(this)->find(line); }

Mesi L1Cache::state(Addr line) const {
  const Way* w = find(line);
  return w ? w->state : Mesi::I;
}

L1Cache::Way* L1Cache::allocate(Addr line) {
  const size_t base = set_base(line);
  Way* set = &ways_v_[base];
  const Addr* tags = &tags_[base];
  int victim = 0;
  for (int i = 0; i < ways_; ++i) {
    if (tags[i] == 0) {
      victim = i;
      break;
    }
    if (set[i].lru < set[victim].lru) victim = i;
  }
  Addr& tag = tags_[base + static_cast<size_t>(victim)];
  if (tag != 0) {
    ++evictions;
    dir_->evict(core_, tag - 1, set[victim].state);
  }
  tag = line + 1;
  return &set[victim];
}

void L1Cache::snoop(Addr line, Mesi to) {
  Way* w = find(line);
  if (!w) return;
  if (to == Mesi::I) {
    ++invalidations;
    tag_of(w) = 0;
    w->state = Mesi::I;
  } else {
    w->state = to;
  }
}

void L1Cache::perform(CoherenceExt& ext, Addr a, uint64_t* words) {
  uint64_t& w = words[(a & ((Addr{1} << line_shift_) - 1)) >> 3];
  const uint64_t old = w;
  ext.result = old;
  switch (ext.op) {
    case MemOp::Load: break;
    case MemOp::Store: w = ext.arg0; break;
    case MemOp::Cas:
      if (old == ext.arg0) w = ext.arg1;
      break;
    case MemOp::FetchAdd: w = old + ext.arg0; break;
    case MemOp::Xchg: w = ext.arg0; break;
  }
}

void L1Cache::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  auto* ext = p.get_extension<CoherenceExt>();
  const Addr a = p.get_address();
  const Addr line = a >> line_shift_;
  const int cpu = ext->requester;
  const uint8_t me = static_cast<uint8_t>(1u << (cpu - core_ * threads_));
  Way* w = find(line);
  const Mesi st = w ? w->state : Mesi::I;
  const bool write = is_write(ext->op);
  const bool hit = write ? (st == Mesi::M || st == Mesi::E) : st != Mesi::I;
  if (hit) {
    ++hits;
    w->lru = ++tick_;
    // A sibling's write reaches this thread by the SMT hand-off; an RMW overlaps it.
    Time cost = hit_;
    if (!(w->seen & me)) {
      cost = smt_handoff_;
      w->seen |= me;
    }
    cost = std::max(cost, ext->hold);
    // Siblings' accesses to one line wait for a write in progress (an RMW keeps the line
    // until it is done), as the directory serialises cores.
    const Time issue = ext->time + static_cast<Time>(delay.value());
    const Time done = std::max(issue, w->busy_until) + cost;
    delay += sc_time_of(done - issue);
    perform(*ext, a, w->words);
    // A write the directory does not see: an E -> M upgrade, or (with SMT) a write a
    // sibling's spin must hear of. A failed CAS changes nothing for a sibling.
    const bool wrote = write && (ext->op != MemOp::Cas || ext->result == ext->arg0);
    if (wrote && threads_ > 1) w->busy_until = done;
    if (write && (st == Mesi::E || (threads_ > 1 && wrote))) {
      w->version = dir_->silent_upgrade(cpu, line, ext->time + static_cast<Time>(delay.value()));
    }
    if (wrote) w->seen = me;
    if (write) w->state = Mesi::M;
  } else {
    ++misses;
    ext->req = !write ? CohReq::GetS : (st == Mesi::S ? CohReq::Upgrade : CohReq::GetM);
    ext->line = line;
    out_->b_transport(p, delay);
    if (!w) w = allocate(line);
    w->state = ext->grant;
    w->lru = ++tick_;
    w->version = ext->version;
    w->words = ext->words;
    perform(*ext, a, w->words);
    w->seen = write ? me : uint8_t{0xff};
    w->busy_until = threads_ > 1 && write ? ext->time + static_cast<Time>(delay.value()) : 0;
  }
  ext->version = w->version;
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

tlm::tlm_sync_enum L1Cache::nb_transport_fw(tlm::tlm_generic_payload& p, tlm::tlm_phase&,
                                            sc_core::sc_time&) {
  p.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);  // cores use b_transport only
  return tlm::TLM_COMPLETED;
}

bool L1Cache::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi&) { return false; }

unsigned int L1Cache::transport_dbg(tlm::tlm_generic_payload&) { return 0; }

}  // namespace quiesce::mem_internal
