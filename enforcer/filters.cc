#include "enforcer/filters.h"

namespace syscg::enforcer {

Filters after(const Filters& before, const SyscallSet& block, Denial how, std::string_view why,
              const DenyErrnos& errnos) {
  Filters now = before;
  if (block.empty()) return now;
  now.hard &= ~block;
  switch (how) {
    case Denial::tightened:
      now.tightened |= block;
      now.errnos.assign_from(errnos, block);
      break;
    case Denial::routed: now.routed |= block; break;
    case Denial::unsupervised:
      now.unsupervised |= block;
      now.why_unsupervised = why;
      now.errnos.assign_from(errnos, block);
      break;
  }
  return now;
}

Filters copy_of(const Filters& record, Pid from) {
  Filters copy = record;
  copy.from = from;
  return copy;
}

std::vector<Loss> losses(const Filters& record, const SyscallSet& allowed) {
  std::vector<Loss> out;
  if (auto lost = allowed & record.tightened; !lost.empty()) out.push_back({lost, "tightened"});
  if (auto lost = allowed & record.unsupervised; !lost.empty()) out.push_back({lost, record.why_unsupervised});
  return out;
}

const Filters* FilterBook::find(Pid pid) const {
  auto it = records_.find(pid);
  return it == records_.end() ? nullptr : &it->second;
}

Filters FilterBook::record_or_default(Pid pid) const {
  const Filters* f = find(pid);
  return f ? *f : Filters{};
}

void FilterBook::erase(Pid pid) {
  records_.erase(pid);
  unfiltered_.erase(pid);
}

bool FilterBook::inherit(Pid parent, Pid child) {
  if (auto early = unfiltered_.find(child); early != unfiltered_.end()) {
    records_[child] = early->second;
    unfiltered_.erase(early);
  } else if (auto it = records_.find(parent); it != records_.end()) {
    records_[child] = it->second;
  } else {
    return false;
  }
  records_[child].from = parent;
  return true;
}

std::uint64_t FilterBook::begin(Pid pid, const Filters& before) {
  const std::uint64_t id = ++steps_;
  auto& provisional = records_[pid];
  provisional = before;
  provisional.step = id;
  return id;
}

void FilterBook::abandon(Pid pid, std::uint64_t step, const Filters& before) {
  records_[pid] = before;
  if (step == 0) return;
  for (auto& [p, rec] : records_)
    if (rec.step == step && p != pid) rec = copy_of(before, rec.from);
}

FilterBook::Settled FilterBook::settle(Pid pid, std::uint64_t step, const Filters& before, const Filters& settled,
                                       const std::set<Pid>& before_filter, bool attach) {
  Settled out;
  Filters target = settled;
  target.step = step;
  records_[pid] = target;
  // Children forked before the filter reached their parent do not have it,
  // nor do their own children. Those whose fork events are still to come
  // take the record they do have from unfiltered_ (or, for a process
  // joining a group, are excluded). Members among them are tightened on
  // their own next.
  for (Pid c : before_filter) {
    if (records_.contains(c)) continue;
    if (attach)
      out.exclude.push_back(c);
    else
      unfiltered_[c] = before;
  }
  // Copies of this step's provisional record are raised to the settled one
  // only along a chain of parents that have the filter, starting at the
  // target: a child it forked after the filter (not among those found
  // before), that child's own children, and so on. A copy whose chain is
  // broken (a parent that has ended, whose record is gone) keeps the record
  // from before.
  std::set<Pid> has{pid};
  for (bool grew = true; grew;) {
    grew = false;
    for (auto& [p, rec] : records_)
      if (rec.step == step && p != pid && !has.contains(p) && has.contains(rec.from) &&
          !(rec.from == pid && before_filter.contains(p))) {
        rec = copy_of(target, rec.from);
        has.insert(p);
        grew = true;
      }
  }
  // A process joining a group does not bring its earlier children (cgroup
  // semantics): those whose fork event came meanwhile leave again, with the
  // children they made.
  if (attach) {
    std::set<Pid> gone(before_filter.begin(), before_filter.end());
    for (bool grew = true; grew;) {
      grew = false;
      for (auto& [p, rec] : records_)
        if (rec.step == step && !has.contains(p) && gone.contains(rec.from) && gone.insert(p).second) grew = true;
    }
    for (Pid p : gone)
      if (auto it = records_.find(p); it != records_.end() && it->second.step == step) out.not_members.push_back(p);
  }
  return out;
}

std::map<Pid, SyscallSet> FilterBook::routed_sets() const {
  std::map<Pid, SyscallSet> out;
  for (const auto& [pid, f] : records_)
    if (!f.routed.empty()) out.emplace(pid, f.routed);
  return out;
}

}  // namespace syscg::enforcer
