#include "fs/membership.h"

#include <algorithm>
#include <array>
#include <set>

namespace syscg::fs {

Membership::Membership(Hierarchy& hierarchy, Enforcement& enforcement, PopulatedChanged populated_changed)
    : hierarchy_(hierarchy), enforcement_(enforcement), populated_changed_(std::move(populated_changed)) {}

bool Membership::forked(Pid parent, Pid child) {
  auto group = hierarchy_.group_of(parent);
  if (!group) return false;
  if (hierarchy_.group_of(child)) return true;
  {
    MutexLock lock(mu_);
    parent_of_[child] = parent;
  }
  const std::array<GroupId, 1> chain{*group};
  const auto before = populated_chain(chain);
  if (!hierarchy_.attach(*group, child)) return false;
  events_changed(chain, before);
  return true;
}

void Membership::exited(Pid pid) {
  {
    MutexLock lock(mu_);
    parent_of_.erase(pid);
    start_times_.erase(pid);
  }
  auto group = hierarchy_.group_of(pid);
  if (!group) return;
  const std::array<GroupId, 1> chain{*group};
  const auto before = populated_chain(chain);
  hierarchy_.detach(pid);
  events_changed(chain, before);
}

void Membership::prune_exited(GroupId group) {
  auto members = hierarchy_.members(group);
  if (!members) return;
  for (Pid pid : members.value()) {
    if (enforcement_.alive(pid)) continue;
    const std::array<GroupId, 1> chain{group};
    const auto before = populated_chain(chain);
    hierarchy_.detach(pid);
    events_changed(chain, before);
  }
}

std::optional<GroupId> Membership::group_of_writer(const Caller& writer) {
  // The writer's own fork came before its request, and so did every fork
  // of its ancestors: after sync() the view holds them.
  enforcement_.sync();
  auto tgid = enforcement_.thread_group(writer.pid);  // the kernel's current thread group
  if (!tgid) return std::nullopt;                     // gone, or not visible: not a member either
  const auto home = hierarchy_.group_of(tgid.value());
  // A recorded member whose process is gone (its number now names the
  // writer) leaves now.
  if (home && !enforcement_.alive(tgid.value())) {
    exited(tgid.value());
    return std::nullopt;
  }
  return home;
}

void Membership::drop_if_gone(Pid tgid) {
  if (hierarchy_.group_of(tgid) && !enforcement_.alive(tgid)) exited(tgid);
}

Status Membership::move(const Process& target, GroupId from, GroupId to, const SyscallSet& allowed, Pid writer_tid) {
  const std::array<GroupId, 2> chains{from, to};
  Populated before;
  {
    // Forks of the target are held back from the filter's injection to the
    // membership commit: a child forked after the filter went in joins
    // `to`, one from before stays outside (the enforcer excludes it).
    BOOST_OUTCOME_TRY(errnos, hierarchy_.errnos(to));  // under the caller's write lock, as `allowed`
    auto paused = enforcement_.pause_events();
    BOOST_OUTCOME_TRY(enforcement_.attach(target.tgid, target.start_time, to, allowed, errnos, writer_tid));
    before = populated_chain(chains);
    BOOST_OUTCOME_TRY(hierarchy_.attach(to, target.tgid));
  }
  enforcement_.barrier();  // routed calls are now decided by the new group
  {
    MutexLock lock(mu_);
    start_times_[target.tgid] = target.start_time;
  }
  events_changed(chains, before);
  return outcome::success();
}

Status Membership::tighten(GroupId group, Pid writer_tid) {
  const auto writer_process = enforcement_.thread_group(writer_tid);
  const Pid self = writer_process ? writer_process.value() : 0;
  std::set<Pid> done, filtered;
  std::optional<MemberPolicy> writer_member;
  std::optional<Error> first_error;
  enforcement_.sync();
  for (;;) {
    BOOST_OUTCOME_TRY(all, hierarchy_.subtree_members(group));
    std::vector<MemberPolicy> todo;
    {
      MutexLock lock(mu_);
      for (const auto& m : all) {
        if (done.contains(m.pid)) continue;
        // Complain mode: its members run what the policy denies (counted by
        // the supervisor where routed); enforce tightens them.
        if (hierarchy_.complains(m.group)) continue;
        if (m.pid == self) {
          writer_member = m;  // last, on its own
          continue;
        }
        // A child whose parent was tightened in this write inherited the new
        // filter, unless it was reported back as forked before that (its
        // parent entry is then gone).
        if (auto p = parent_of_.find(m.pid); p != parent_of_.end() && filtered.contains(p->second)) continue;
        todo.push_back(m);
      }
    }
    if (todo.empty()) break;
    auto result = enforcement_.policy_changed(todo, writer_tid);
    for (const auto& m : todo) done.insert(m.pid);
    if (!result) {
      if (!first_error) first_error = result.error();
      break;
    }
    // Only a member that got the filter vouches for its later children; one
    // that exited (or was killed) first does not.
    filtered.insert(result.value().filtered.begin(), result.value().filtered.end());
    enforcement_.sync();
    // Only children that are members (they forked after their parent
    // joined); those from before the move are not. Asked before taking our
    // lock: it is a leaf.
    std::vector<Pid> unvouched;
    for (const auto& f : result.value().unfiltered)
      if (hierarchy_.group_of(f.child)) unvouched.push_back(f.child);
    MutexLock lock(mu_);
    for (Pid child : unvouched) parent_of_.erase(child);
  }
  if (writer_member) {
    const std::array<MemberPolicy, 1> one{*writer_member};
    if (auto r = enforcement_.policy_changed(one, writer_tid); !r && !first_error) first_error = r.error();
  }
  if (first_error) return *first_error;
  return outcome::success();
}

Result<bool> Membership::readopt(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed) {
  // Its filters never went away: nothing is injected.
  if (!enforcement_.adopt(pid, start_time, allowed)) return false;
  BOOST_OUTCOME_TRY(hierarchy_.attach(group, pid));
  MutexLock lock(mu_);
  start_times_[pid] = start_time;
  return true;
}

std::unordered_map<Pid, std::uint64_t> Membership::start_times() const {
  MutexLock lock(mu_);
  return start_times_;
}

Membership::Populated Membership::populated_chain(std::span<const GroupId> groups) const {
  Populated out;
  for (GroupId g : groups) {
    while (g != kNoGroup && std::none_of(out.begin(), out.end(), [g](const auto& p) { return p.first == g; })) {
      auto info = hierarchy_.info(g);
      if (!info) break;
      auto populated = hierarchy_.populated(g);
      out.emplace_back(g, populated && populated.value());
      g = info.value().parent;
    }
  }
  return out;
}

void Membership::events_changed(std::span<const GroupId> chains, const Populated& before) {
  std::vector<GroupId> changed;
  for (const auto& now : populated_chain(chains)) {
    const GroupId g = now.first;  // not a structured binding: Clang 14 cannot capture one
    auto it = std::find_if(before.begin(), before.end(), [g](const auto& p) { return p.first == g; });
    if (it == before.end() || it->second != now.second) changed.push_back(g);
  }
  if (!changed.empty()) populated_changed_(changed);
}

}  // namespace syscg::fs
