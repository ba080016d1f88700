#include "fs/persist.h"

#include <string>

namespace syscg::fs {

Result<GroupRow> group_row(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys, GroupId group) {
  BOOST_OUTCOME_TRY(info, hierarchy.info(group));
  const auto key = keys.of.find(group);
  const auto parent = info.parent == kNoGroup ? keys.of.end() : keys.of.find(info.parent);
  const auto dir = meta.owner_mode(group, FileKind::dir);
  if (key == keys.of.end() || (info.parent != kNoGroup && parent == keys.of.end()) || !dir)
    return make_error(Errc::not_found, "the group was removed");
  return GroupRow{.key = key->second,
                  .parent = parent == keys.of.end() ? 0 : parent->second,
                  .name = info.name,
                  .allowed = info.allowed,
                  .errnos = info.errnos,
                  .complain = info.complain,
                  .max_depth = info.max_depth,
                  .max_descendants = info.max_descendants,
                  .dir = {dir->mode, dir->uid, dir->gid}};
}

Result<std::vector<RowOp>> new_group_rows(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys,
                                          GroupId group) {
  BOOST_OUTCOME_TRY(row, group_row(hierarchy, meta, keys, group));
  GroupRecord record{};
  if (!meta.save(group, record)) return make_error(Errc::not_found, "the group was removed");
  std::vector<RowOp> ops{PutGroup{row}};
  auto files = file_rows(row.key, record.files);
  ops.insert(ops.end(), files.begin(), files.end());
  return ops;
}

std::vector<SavedPolicy> subtree_policies(const Hierarchy& hierarchy, GroupId group) {
  std::vector<SavedPolicy> out;
  std::vector<GroupId> todo{group};
  while (!todo.empty()) {
    const GroupId g = todo.back();
    todo.pop_back();
    auto allowed = hierarchy.allowed(g);
    auto errnos = hierarchy.errnos(g);
    if (!allowed || !errnos) continue;
    out.push_back({g, allowed.value(), std::move(errnos).value()});
    if (auto children = hierarchy.children(g))
      for (const auto& c : children.value()) todo.push_back(c.id);
  }
  return out;
}

std::vector<RowOp> narrowed_rows(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys,
                                 const std::vector<SavedPolicy>& before) {
  std::vector<RowOp> ops;
  for (const auto& b : before) {
    auto row = group_row(hierarchy, meta, keys, b.group);
    if (row && (row.value().allowed != b.allowed || row.value().errnos != b.errnos))
      ops.emplace_back(PutGroup{std::move(row).value()});
  }
  return ops;
}

std::vector<RowOp> whole_state(const Hierarchy& hierarchy, const MetaTable& meta, const Keys& keys,
                               const std::unordered_map<Pid, std::uint64_t>& start_times) {
  std::vector<RowOp> ops{DropAll{}};
  for (const auto& g : hierarchy.snapshot()) {  // parents first
    auto rows = new_group_rows(hierarchy, meta, keys, g.id);
    if (!rows) continue;  // removed meanwhile: only by a write, which waits for ours
    const RowKey key = std::get<PutGroup>(rows.value().front()).row.key;
    ops.insert(ops.end(), rows.value().begin(), rows.value().end());
    if (auto members = hierarchy.members(g.id))
      for (Pid pid : members.value())
        if (auto t = start_times.find(pid); t != start_times.end())
          ops.emplace_back(PutMember{MemberRow{pid, t->second, key}});
  }
  return ops;
}

Result<std::vector<Pid>> restore(const KeyedState& keyed, Hierarchy& hierarchy, MetaTable& meta, Membership& membership,
                                 Keys& keys) {
  const State& state = keyed.state;
  keys = Keys{};
  // Limits go in last, since a limit may have been lowered below what
  // already existed.
  std::unordered_map<std::string, GroupId> ids{{"/", kRootGroup}};
  for (std::size_t i = 0; i < state.groups.size(); ++i) {
    const auto& r = state.groups[i];
    GroupId id = kRootGroup;
    if (r.path != "/") {
      const auto slash = r.path.rfind('/');
      const GroupId parent = ids.at(slash == 0 ? std::string("/") : r.path.substr(0, slash));
      BOOST_OUTCOME_TRY(created, hierarchy.create(parent, r.path.substr(slash + 1)));
      id = created;
      // Every number it denies, again: a group's errno for a number its
      // parent denies may differ from the parent's (a later deny of its own).
      const SyscallSet denied = ~r.allowed;
      if (!denied.empty()) {
        BOOST_OUTCOME_TRY(hierarchy.deny(id, denied, r.errnos));
      }
    }
    if (id != kRootGroup) {
      // Set either way: a new group took its parent's mode (parents first,
      // so a complaining parent already complains).
      BOOST_OUTCOME_TRY(hierarchy.set_complain(id, r.complain));
    }
    ids[r.path] = id;
    if (i < keyed.keys.size()) {
      keys.of[id] = keyed.keys[i];
      keys.next = std::max(keys.next, keyed.keys[i] + 1);
    }
    meta.restore(id, r.dir, r.files);
  }
  for (const auto& r : state.groups) {
    BOOST_OUTCOME_TRY(hierarchy.set_max_depth(ids.at(r.path), r.max_depth));
    BOOST_OUTCOME_TRY(hierarchy.set_max_descendants(ids.at(r.path), r.max_descendants));
  }
  std::vector<Pid> dropped;
  for (const auto& m : state.members) {
    BOOST_OUTCOME_TRY(allowed, hierarchy.allowed(ids.at(m.path)));
    BOOST_OUTCOME_TRY(adopted, membership.readopt(m.pid, m.start_time, ids.at(m.path), allowed));
    if (!adopted) dropped.push_back(m.pid);
  }
  return dropped;
}

}  // namespace syscg::fs
