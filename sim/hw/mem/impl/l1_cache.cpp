#include "sim/hw/mem/internal/l1_cache.h"

#include "sim/hw/mem/internal/directory.h"

namespace quiesce::mem_internal {

L1Cache::L1Cache(sc_core::sc_module_name name, int cpu, int sets, int ways, int line_shift,
                 Time hit_latency, Directory* dir, StatRegistry* stats)
    : sc_module(name),
      in_("in"),
      out_("out"),
      stats_(stats, "cpu" + std::to_string(cpu) + ".l1"),
      cpu_(cpu),
      sets_(sets),
      ways_(ways),
      line_shift_(line_shift),
      hit_(sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(hit_latency))),
      dir_(dir),
      ways_v_(static_cast<size_t>(sets) * static_cast<size_t>(ways)) {
  in_.register_b_transport(this, &L1Cache::b_transport);
}

L1Cache::Way* L1Cache::find(Addr line) {
  Way* set = &ways_v_[static_cast<size_t>(line % static_cast<Addr>(sets_)) * static_cast<size_t>(ways_)];
  for (int i = 0; i < ways_; ++i) {
    if (set[i].tag == line + 1) return &set[i];
  }
  return nullptr;
}

const L1Cache::Way* L1Cache::find(Addr line) const { return const_cast<L1Cache*>(this)->find(line); }

Mesi L1Cache::state(Addr line) const {
  const Way* w = find(line);
  return w ? w->state : Mesi::I;
}

L1Cache::Way* L1Cache::allocate(Addr line) {
  Way* set = &ways_v_[static_cast<size_t>(line % static_cast<Addr>(sets_)) * static_cast<size_t>(ways_)];
  Way* victim = &set[0];
  for (int i = 0; i < ways_; ++i) {
    if (set[i].tag == 0) {
      victim = &set[i];
      break;
    }
    if (set[i].lru < victim->lru) victim = &set[i];
  }
  if (victim->tag != 0) {
    ++evictions;
    dir_->evict(cpu_, victim->tag - 1, victim->state);
  }
  victim->tag = line + 1;
  return victim;
}

void L1Cache::snoop(Addr line, Mesi to) {
  Way* w = find(line);
  if (!w) return;
  if (to == Mesi::I) {
    ++invalidations;
    w->tag = 0;
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
  Way* w = find(line);
  const Mesi st = w ? w->state : Mesi::I;
  const bool write = is_write(ext->op);
  const bool hit = write ? (st == Mesi::M || st == Mesi::E) : st != Mesi::I;
  if (hit) {
    ++hits;
    w->lru = ++tick_;
    delay += hit_ + sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(ext->hold));
    if (write && st == Mesi::E) {
      w->version = dir_->silent_upgrade(cpu_, line, ext->time + static_cast<Time>(delay.value()));
    }
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
  }
  ext->version = w->version;
  perform(*ext, a, w->words);
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace quiesce::mem_internal
