#include "fs/persist.h"

#include <string>

namespace syscg::fs {

State capture(const Hierarchy& hierarchy, const MetaTable& meta,
              const std::unordered_map<Pid, std::uint64_t>& start_times) {
  State state;
  for (const auto& g : hierarchy.snapshot()) {
    auto path = hierarchy.path(g.id);
    if (!path) continue;  // removed meanwhile: only by a write, which waits for ours
    GroupRecord r{.path = path.value(),
                  .allowed = g.allowed,
                  .max_depth = g.max_depth,
                  .max_descendants = g.max_descendants,
                  .dir = {},
                  .files = {}};
    if (!meta.save(g.id, r)) continue;
    state.groups.push_back(std::move(r));
    if (auto members = hierarchy.members(g.id))
      for (Pid pid : members.value())
        if (auto t = start_times.find(pid); t != start_times.end())
          state.members.push_back({pid, t->second, path.value()});
  }
  return state;
}

Status restore(const State& state, Hierarchy& hierarchy, MetaTable& meta, Membership& membership) {
  // Limits go in last, since a limit may have been lowered below what
  // already existed.
  std::unordered_map<std::string, GroupId> ids{{"/", kRootGroup}};
  for (const auto& r : state.groups) {
    GroupId id = kRootGroup;
    if (r.path != "/") {
      const auto slash = r.path.rfind('/');
      const GroupId parent = ids.at(slash == 0 ? std::string("/") : r.path.substr(0, slash));
      BOOST_OUTCOME_TRY(created, hierarchy.create(parent, r.path.substr(slash + 1)));
      id = created;
      BOOST_OUTCOME_TRY(narrowed, hierarchy.allowed(parent));
      narrowed.subtract(r.allowed);
      if (!narrowed.empty()) {
        BOOST_OUTCOME_TRY(hierarchy.deny(id, narrowed));
      }
    }
    ids[r.path] = id;
    meta.restore(id, r.dir, r.files);
  }
  for (const auto& r : state.groups) {
    BOOST_OUTCOME_TRY(hierarchy.set_max_depth(ids.at(r.path), r.max_depth));
    BOOST_OUTCOME_TRY(hierarchy.set_max_descendants(ids.at(r.path), r.max_descendants));
  }
  for (const auto& m : state.members) {
    BOOST_OUTCOME_TRY(allowed, hierarchy.allowed(ids.at(m.path)));
    BOOST_OUTCOME_TRY(membership.readopt(m.pid, m.start_time, ids.at(m.path), allowed));
  }
  return outcome::success();
}

}  // namespace syscg::fs
