#include "core/hierarchy.h"

#include "core/syscall_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace syscg {

struct Hierarchy::Node {
  GroupId id;
  Node* parent;
  std::string name;
  unsigned depth;
  int max_depth = grammar::kUnlimited;
  int max_descendants = grammar::kUnlimited;
  std::size_t nr_descendants = 0;
  SyscallSet allowed;
  DenyErrnos errnos;  // of the numbers `allowed` lacks
  bool complain = false;
  boost::container::flat_map<std::string, Node*, std::less<>> children;
  boost::container::flat_set<Pid> members;
};

namespace {

Error no_group(GroupId id) { return make_error(Errc::not_found, fmt::format("no group with id {}", id)); }

std::string describe_nr(unsigned nr) {
  if (auto n = syscall_table::name(nr)) return fmt::format("{} ({})", nr, *n);
  return fmt::format("{}", nr);
}

}  // namespace

Hierarchy::Hierarchy() {
  auto root = std::make_unique<Node>();
  root->id = kRootGroup;
  root->parent = nullptr;
  root->depth = 0;
  root->allowed = SyscallSet::all();
  nodes_.emplace(kRootGroup, std::move(root));
}

Hierarchy::~Hierarchy() = default;

Hierarchy::Node* Hierarchy::find(GroupId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

GroupInfo Hierarchy::describe(const Node& n) const {
  return GroupInfo{.id = n.id,
                   .parent = n.parent ? n.parent->id : kNoGroup,
                   .name = n.name,
                   .depth = n.depth,
                   .max_depth = n.max_depth,
                   .max_descendants = n.max_descendants,
                   .nr_descendants = n.nr_descendants,
                   .nr_members = n.members.size(),
                   .nr_children = n.children.size(),
                   .allowed = n.allowed,
                   .errnos = n.errnos,
                   .complain = n.complain};
}

Result<GroupId> Hierarchy::create(GroupId parent_id, std::string_view name) {
  BOOST_OUTCOME_TRY(grammar::check_group_name(name));
  WriterLock lock(mu_);
  Node* parent = find(parent_id);
  if (!parent) return no_group(parent_id);
  if (parent->children.contains(name)) return make_error(Errc::exists, fmt::format("group '{}' exists", name));
  // cgroup_check_hierarchy_limits(): every ancestor's limits, relative depth.
  unsigned levels_below = 1;
  for (const Node* a = parent; a; a = a->parent, ++levels_below) {
    if (a->nr_descendants >= static_cast<std::size_t>(a->max_descendants))
      return make_error(Errc::limit, fmt::format("max.descendants of '{}' reached", a->name));
    if (levels_below > static_cast<unsigned>(a->max_depth))
      return make_error(Errc::limit, fmt::format("max.depth of '{}' reached", a->name));
  }
  auto node = std::make_unique<Node>();
  node->id = next_id_++;
  node->parent = parent;
  node->name = std::string(name);
  node->depth = parent->depth + 1;
  node->allowed = parent->allowed;
  node->errnos = parent->errnos;
  node->complain = parent->complain;
  Node* raw = node.get();
  nodes_.emplace(raw->id, std::move(node));
  parent->children.emplace(raw->name, raw);
  for (Node* a = parent; a; a = a->parent) ++a->nr_descendants;
  return raw->id;
}

Status Hierarchy::remove(GroupId id) {
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  if (!n->parent) return make_error(Errc::busy, "the root group cannot be removed");
  if (!n->children.empty())
    return make_error(Errc::busy, fmt::format("group '{}' has {} child groups", n->name, n->children.size()));
  if (!n->members.empty())
    return make_error(Errc::busy, fmt::format("group '{}' has {} members", n->name, n->members.size()));
  for (Node* a = n->parent; a; a = a->parent) --a->nr_descendants;
  n->parent->children.erase(n->name);
  nodes_.erase(id);
  return outcome::success();
}

Status Hierarchy::rename(GroupId id, std::string_view new_name) {
  BOOST_OUTCOME_TRY(grammar::check_group_name(new_name));
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  if (!n->parent) return make_error(Errc::busy, "the root group cannot be renamed");
  if (n->name == new_name) return outcome::success();
  if (n->parent->children.contains(new_name))
    return make_error(Errc::exists, fmt::format("group '{}' exists", new_name));
  n->parent->children.erase(n->name);
  n->name = std::string(new_name);
  n->parent->children.emplace(n->name, n);
  return outcome::success();
}

Result<GroupId> Hierarchy::lookup(GroupId parent_id, std::string_view name) const {
  ReaderLock lock(mu_);
  const Node* parent = find(parent_id);
  if (!parent) return no_group(parent_id);
  auto it = parent->children.find(name);
  if (it == parent->children.end()) return make_error(Errc::not_found, fmt::format("no group '{}'", name));
  return it->second->id;
}

Result<GroupInfo> Hierarchy::info(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  return describe(*n);
}

Result<std::vector<ChildEntry>> Hierarchy::children(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  std::vector<ChildEntry> out;
  out.reserve(n->children.size());
  for (const auto& [name, child] : n->children) out.push_back({name, child->id});
  return out;
}

Result<SyscallSet> Hierarchy::allowed(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  return n->allowed;
}

Result<DenyErrnos> Hierarchy::errnos(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  return n->errnos;
}

Result<std::string> Hierarchy::path(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  if (!n->parent) return std::string("/");
  std::vector<const Node*> chain;
  for (; n->parent; n = n->parent) chain.push_back(n);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) out += "/" + (*it)->name;
  return out;
}

Status Hierarchy::allow(GroupId id, const SyscallSet& set) {
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  if (!n->parent) return make_error(Errc::permission, "the root group's policy cannot be changed");
  const SyscallSet beyond = SyscallSet(set).subtract(n->parent->allowed);
  if (!beyond.empty())
    return make_error(Errc::permission, fmt::format("the parent group denies {}", describe_nr(*beyond.begin())));
  n->allowed |= set;
  n->errnos.clear(set);
  return outcome::success();
}

Status Hierarchy::deny(GroupId id, const SyscallSet& set, const DenyErrnos& errnos) {
  if (set.test(kRestartSyscall))
    return make_error(Errc::invalid, "restart_syscall (219) is always allowed and cannot be denied");
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  if (!n->parent) return make_error(Errc::permission, "the root group's policy cannot be changed");
  // The reviewer's fix: a deny reaches every descendant, in the same critical
  // section, so no reader sees a child allowing what its parent denies.
  std::vector<Node*> stack{n};
  while (!stack.empty()) {
    Node* cur = stack.back();
    stack.pop_back();
    cur->allowed.subtract(set);
    cur->errnos.assign_from(errnos, set);
    for (const auto& entry : cur->children) stack.push_back(entry.second);
  }
  return outcome::success();
}

Status Hierarchy::set_complain(GroupId id, bool complain) {
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  if (!n->parent) return make_error(Errc::permission, "the root group's policy cannot be changed");
  if (complain) {
    if (n->parent->parent && !n->parent->complain)
      return make_error(Errc::permission, "the parent group enforces its policy");
    n->complain = true;
    return outcome::success();
  }
  std::vector<Node*> stack{n};
  while (!stack.empty()) {
    Node* cur = stack.back();
    stack.pop_back();
    cur->complain = false;
    for (const auto& entry : cur->children) stack.push_back(entry.second);
  }
  return outcome::success();
}

std::optional<Hierarchy::CallPolicy> Hierarchy::call_policy(GroupId id, unsigned nr) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return std::nullopt;
  return CallPolicy{n->allowed, n->complain, n->errnos.of(nr)};
}

bool Hierarchy::complains(GroupId id) const noexcept {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  return n && n->complain;
}

bool Hierarchy::check(GroupId id, std::uint64_t nr) const noexcept {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  return n && n->allowed.test(nr);
}

bool Hierarchy::check_naive(GroupId id, std::uint64_t nr) const noexcept {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return false;
  for (; n; n = n->parent)
    if (!n->allowed.test(nr)) return false;
  return true;
}

Status Hierarchy::set_max_depth(GroupId id, int limit) {
  if (limit < 0) return make_error(Errc::out_of_range, "a limit cannot be negative");
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  n->max_depth = limit;
  return outcome::success();
}

Status Hierarchy::set_max_descendants(GroupId id, int limit) {
  if (limit < 0) return make_error(Errc::out_of_range, "a limit cannot be negative");
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  n->max_descendants = limit;
  return outcome::success();
}

Result<std::optional<GroupId>> Hierarchy::attach(GroupId id, Pid pid) {
  if (pid <= 0) return make_error(Errc::out_of_range, fmt::format("{} is not a process id", pid));
  WriterLock lock(mu_);
  Node* n = find(id);
  if (!n) return no_group(id);
  std::optional<GroupId> previous;
  if (auto it = member_of_.find(pid); it != member_of_.end()) {
    previous = it->second;
    find(it->second)->members.erase(pid);
  }
  n->members.insert(pid);
  member_of_[pid] = id;
  return previous;
}

std::optional<GroupId> Hierarchy::detach(Pid pid) {
  WriterLock lock(mu_);
  auto it = member_of_.find(pid);
  if (it == member_of_.end()) return std::nullopt;
  const GroupId g = it->second;
  find(g)->members.erase(pid);
  member_of_.erase(it);
  return g;
}

std::optional<GroupId> Hierarchy::group_of(Pid pid) const {
  ReaderLock lock(mu_);
  auto it = member_of_.find(pid);
  if (it == member_of_.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<Pid>> Hierarchy::members(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  return std::vector<Pid>(n->members.begin(), n->members.end());
}

Result<std::vector<MemberPolicy>> Hierarchy::subtree_members(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  std::vector<MemberPolicy> out;
  std::vector<const Node*> stack{n};
  while (!stack.empty()) {
    const Node* cur = stack.back();
    stack.pop_back();
    for (Pid pid : cur->members) out.push_back({pid, cur->id, cur->allowed, cur->errnos});
    for (const auto& entry : cur->children) stack.push_back(entry.second);
  }
  return out;
}

bool Hierarchy::contains(GroupId outer, GroupId inner) const {
  ReaderLock lock(mu_);
  if (!find(outer)) return false;
  for (const Node* n = find(inner); n; n = n->parent)
    if (n->id == outer) return true;
  return false;
}

Result<bool> Hierarchy::populated(GroupId id) const {
  ReaderLock lock(mu_);
  const Node* n = find(id);
  if (!n) return no_group(id);
  std::vector<const Node*> stack{n};
  while (!stack.empty()) {
    const Node* cur = stack.back();
    stack.pop_back();
    if (!cur->members.empty()) return true;
    for (const auto& entry : cur->children) stack.push_back(entry.second);
  }
  return false;
}

std::vector<GroupInfo> Hierarchy::snapshot() const {
  ReaderLock lock(mu_);
  std::vector<GroupInfo> out;
  out.reserve(nodes_.size());
  std::vector<const Node*> stack{find(kRootGroup)};
  while (!stack.empty()) {
    const Node* cur = stack.back();
    stack.pop_back();
    out.push_back(describe(*cur));
    for (const auto& entry : cur->children) stack.push_back(entry.second);
  }
  return out;
}

}  // namespace syscg
