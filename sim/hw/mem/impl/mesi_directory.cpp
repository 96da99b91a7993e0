#include <algorithm>

#include "sim/hw/mem/internal/directory.h"
#include "sim/hw/mem/internal/l1_cache.h"

namespace quiesce::mem_internal {

Directory::Directory(sc_core::sc_module_name name, const Topology& topo, const LineLatencies& lat,
                     int line_shift, StatRegistry* stats)
    : sc_module(name), in_("in"), stats_(stats, "mem.dir"), topo_(topo), lat_(lat), line_shift_(line_shift) {
  in_.register_b_transport(this, &Directory::b_transport);
}

void Directory::set_l1(int core, Addr line, Mesi s) { caches_[static_cast<size_t>(core)]->snoop(line, s); }

uint64_t Directory::read(Addr a) const {
  const Entry* e = lines_.find(a >> line_shift_);
  if (!e || !e->words) return 0;
  return e->words[(a & ((Addr{1} << line_shift_) - 1)) >> 3];
}

uint64_t* Directory::words_of(Entry& e) {
  if (!e.words) {
    const size_t n = size_t{1} << (line_shift_ - 3);
    e.words = std::make_unique<uint64_t[]>(n);
  }
  return e.words.get();
}

uint64_t& Directory::word(Addr a) {
  return words_of(lines_[a >> line_shift_])[(a & ((Addr{1} << line_shift_) - 1)) >> 3];
}

void Directory::b_transport(int, tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  auto* ext = p.get_extension<CoherenceExt>();
  const int r_cpu = ext->requester;
  const int r = topo_.core_of(r_cpu);  // owners and sharers are cores (L1s)
  Entry& e = lines_[ext->line];
  if (e.tracked) ++e.tracked->requests;
  const Time issue = ext->time + static_cast<Time>(delay.value());
  const Time start = std::max(issue, e.ready_at);
  const Time fill = e.touched ? lat_.llc_hit : lat_.dram;
  Time lat = 0;

  if (ext->req == CohReq::GetS) {
    ++gets;
    if (e.owner >= 0 && e.owner != r) {
      lat = core_handoff(r, e.owner);
      ++transfers;
      if (e.tracked) ++e.tracked->transfers;
      set_l1(e.owner, ext->line, Mesi::S);
      e.sharers.add(e.owner);
      e.owner = -1;
      e.sharers.add(r);
      ext->grant = Mesi::S;
    } else if (!e.sharers.empty()) {
      lat = lat_.llc_hit;
      e.sharers.add(r);
      ext->grant = Mesi::S;
    } else {
      lat = fill;
      if (!e.touched) ++dram_reads;
      e.owner = r;
      ext->grant = Mesi::E;
    }
  } else {
    if (ext->req == CohReq::GetM) ++getm;
    else ++upgrades;
    if (e.owner >= 0 && e.owner != r) {
      lat = core_handoff(r, e.owner);
      ++transfers;
      ++invalidations;
      if (e.tracked) {
        ++e.tracked->transfers;
        ++e.tracked->invalidations;
      }
      set_l1(e.owner, ext->line, Mesi::I);
    } else {
      const bool has_data = ext->req == CohReq::Upgrade && e.sharers.has(r);
      Time inval = 0;
      e.sharers.for_each([&](int s) {
        if (s == r) return;
        inval = std::max(inval, core_upgrade(r, s));
        ++invalidations;
        if (e.tracked) ++e.tracked->invalidations;
        set_l1(s, ext->line, Mesi::I);
      });
      if (!has_data && !e.touched) ++dram_reads;
      // An upgrade with no other sharer still waits for the directory's ownership ack.
      lat = std::max(has_data ? lat_.llc_hit : fill, inval);
    }
    e.owner = r;
    e.sharers.clear();
    ext->grant = Mesi::M;
    // An RMW executes as the line arrives (the larger of the two, not their sum); the line
    // stays busy and its write invisible until it is done.
    lat = std::max(lat, ext->hold);
    ++e.version;
    e.write_done = start + lat;
    for (LineWatcher* w : e.watchers) {
      if (w->watcher_id() != r_cpu) w->line_changed(start + lat);
    }
    e.watchers.clear();
  }
  e.touched = true;
  e.ready_at = start + lat;
  ext->version = e.version;
  ext->words = words_of(e);
  delay += sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(start + lat - issue));
}

void Directory::evict(int core, Addr line, Mesi state) {
  Entry& e = lines_[line];
  if (e.owner == core) {
    e.owner = -1;
    if (state == Mesi::M) ++writebacks;
  }
  e.sharers.remove(core);
}

uint64_t Directory::silent_upgrade(int cpu, Addr line, Time done) {
  Entry& e = lines_[line];
  ++e.version;
  e.write_done = std::max(e.write_done, done);
  for (LineWatcher* w : e.watchers) {
    if (w->watcher_id() != cpu) w->line_changed(done);
  }
  e.watchers.clear();
  return e.version;
}

void Directory::watch(Addr line, LineWatcher* w) {
  auto& ws = lines_[line].watchers;
  if (std::find(ws.begin(), ws.end(), w) == ws.end()) ws.push_back(w);
}

uint64_t Directory::version(Addr line) const {
  const Entry* e = lines_.find(line);
  return e ? e->version : 0;
}

Time Directory::write_done(Addr line) const {
  const Entry* e = lines_.find(line);
  return e ? e->write_done : 0;
}

void Directory::track(Addr line, std::unique_ptr<TrackedLine> t) {
  lines_[line].tracked = t.get();
  tracked_.push_back(std::move(t));
}

}  // namespace quiesce::mem_internal
