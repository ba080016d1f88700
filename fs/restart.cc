// The filesystem's share of a controlled restart (handover.h): freezing the
// model for the snapshot, and taking back the members the database lacks.
#include "fs/filesystem.h"

#include <fmt/format.h>

namespace syscg::fs {

Status Filesystem::writable() const {
  if (frozen_) return make_error(Errc::handing_over, "the daemon is handing over to its successor: try again");
  return outcome::success();
}

Status Filesystem::freeze() {
  Journal::Ticket flushed;
  {
    MutexLock wlock(write_mu_);
    frozen_ = true;
    // Every mutation before held write_mu_ and queued its rows: an empty
    // change after them is durable only once they are.
    flushed = save({});
  }
  return durable(flushed);
}

void Filesystem::thaw() {
  MutexLock wlock(write_mu_);
  frozen_ = false;
}

std::vector<HandedMember> Filesystem::members_now() {
  enforcement_.sync();  // every fork and exit before now is in the view
  std::vector<HandedMember> out;
  auto members = hierarchy_.subtree_members(kRootGroup);
  if (!members) return out;
  const auto moved = membership_.start_times();
  for (const auto& m : members.value()) {
    auto path = hierarchy_.path(m.group);
    if (!path) continue;
    std::uint64_t start = 0;
    if (auto it = moved.find(m.pid); it != moved.end()) {
      start = it->second;
    } else if (auto p = enforcement_.identify(m.pid, 0); p && p.value().tgid == m.pid) {
      start = p.value().start_time;  // a child that joined by forking
    } else {
      continue;  // gone
    }
    out.push_back({m.pid, start, std::move(path).value()});
  }
  return out;
}

Result<std::size_t> Filesystem::adopt_handed(const std::vector<HandedMember>& members) {
  std::size_t joined = 0;
  Journal::Ticket saved;
  {
    MutexLock wlock(write_mu_);
    for (const auto& m : members) {
      if (hierarchy_.group_of(m.pid)) continue;  // saved, and re-adopted by restore()
      // The group by its path; one removed meanwhile is none of ours.
      GroupId group = kRootGroup;
      std::string_view rest = m.group;
      bool found = true;
      while (found && !rest.empty()) {
        if (rest.front() == '/') {
          rest.remove_prefix(1);
          continue;
        }
        const auto slash = rest.find('/');
        auto next = hierarchy_.lookup(group, rest.substr(0, slash));
        found = static_cast<bool>(next);
        if (found) group = next.value();
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
      }
      if (!found || group == kRootGroup) continue;
      BOOST_OUTCOME_TRY(allowed, hierarchy_.allowed(group));
      BOOST_OUTCOME_TRY(adopted, membership_.readopt(m.pid, m.start_time, group, allowed));
      if (!adopted) continue;
      ++joined;
      if (const auto key = keys_.of.find(group); options_.journal && key != keys_.of.end())
        saved = save({PutMember{MemberRow{m.pid, m.start_time, key->second}}});
    }
  }
  BOOST_OUTCOME_TRY(durable(saved));
  return joined;
}

}  // namespace syscg::fs
