// The reference model of the group tree's differential test: deliberately
// naive, every rule recomputed by scanning.
#pragma once

#include "tests/core/hierarchy_util.h"

#include <array>
#include <bitset>
#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace syscg::hierarchy_testing {

// A deliberately naive model of the documented semantics: a map of nodes with
// parent links, one bitset per node, everything recomputed by scanning. Every
// operation returns the set of error codes the contract permits for its input
// (empty: it must succeed) and, when empty, applies the change.
class Model {
 public:
  using Bits = std::bitset<kSyscallWidth>;
  using Errors = std::set<Errc>;
  struct Node {
    GroupId parent = kNoGroup;
    std::string name;
    Bits allowed;
    int max_depth = kUnlimited;
    int max_descendants = kUnlimited;
    std::array<int, kSyscallWidth> err = all_eperm();  // each number's errno (EPERM where allowed)
    bool complain = false;
  };
  static std::array<int, kSyscallWidth> all_eperm() {
    std::array<int, kSyscallWidth> a;
    a.fill(EPERM);
    return a;
  }

  Model() { nodes_[kRootGroup] = Node{kNoGroup, "", Bits().set(), kUnlimited, kUnlimited}; }

  bool contains(GroupId g) const { return nodes_.contains(g); }
  const std::map<GroupId, Node>& nodes() const { return nodes_; }
  std::optional<GroupId> group_of(Pid pid) const {
    auto it = member_of_.find(pid);
    return it == member_of_.end() ? std::nullopt : std::optional<GroupId>(it->second);
  }

  std::vector<GroupId> children(GroupId g) const {
    std::vector<GroupId> out;
    for (const auto& [id, n] : nodes_)
      if (n.parent == g) out.push_back(id);
    return out;
  }
  std::size_t descendants(GroupId g) const {
    std::size_t n = 0;
    for (GroupId c : children(g)) n += 1 + descendants(c);
    return n;
  }
  unsigned depth(GroupId g) const {
    unsigned d = 0;
    for (; nodes_.at(g).parent != kNoGroup; g = nodes_.at(g).parent) ++d;
    return d;
  }
  std::size_t members(GroupId g) const {
    std::size_t n = 0;
    for (const auto& entry : member_of_) n += entry.second == g;
    return n;
  }

  static bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 255 || s == "." || s == "..") return false;
    for (char ch : s)
      if (ch == '/' || ch == '\n' || ch == '\0') return false;
    return s.rfind("cgroup.", 0) != 0 && s.rfind("syscalls.", 0) != 0;
  }

  // `id` is the id the implementation handed out (kNoGroup if it failed).
  Errors create(GroupId parent, const std::string& name, GroupId id) {
    Errors e;
    if (!valid_name(name)) e.insert(Errc::invalid);
    if (!contains(parent)) {
      e.insert(Errc::not_found);
      return e;
    }
    for (GroupId c : children(parent))
      if (nodes_[c].name == name) e.insert(Errc::exists);
    const unsigned new_depth = depth(parent) + 1;
    for (GroupId a = parent; a != kNoGroup; a = nodes_[a].parent) {
      const Node& n = nodes_[a];
      if (descendants(a) >= static_cast<std::size_t>(n.max_descendants) ||
          new_depth - depth(a) > static_cast<unsigned>(n.max_depth))
        e.insert(Errc::limit);
    }
    if (e.empty() && id != kNoGroup) {
      const Node& p = nodes_[parent];
      nodes_[id] = Node{parent, name, p.allowed, kUnlimited, kUnlimited, p.err, p.complain};
    }
    return e;
  }

  Errors remove(GroupId g) {
    if (!contains(g)) return {Errc::not_found};
    if (g == kRootGroup || !children(g).empty() || members(g) != 0) return {Errc::busy};
    nodes_.erase(g);
    return {};
  }

  Errors allow(GroupId g, const Bits& s) {
    if (!contains(g)) return {Errc::not_found};
    if (g == kRootGroup) return {Errc::permission};
    if ((s & ~nodes_[nodes_[g].parent].allowed).any()) return {Errc::permission};
    nodes_[g].allowed |= s;
    for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
      if (s.test(nr)) nodes_[g].err[nr] = EPERM;
    return {};
  }

  Errors deny(GroupId g, const Bits& s, int err = EPERM) {
    Errors e;
    if (s.test(kRestartSyscall)) e.insert(Errc::invalid);
    if (!contains(g))
      e.insert(Errc::not_found);
    else if (g == kRootGroup)
      e.insert(Errc::permission);
    if (e.empty()) deny_subtree(g, s, err);
    return e;
  }

  // complain only under the root or a complaining parent; enforce reaches
  // the subtree.
  Errors set_complain(GroupId g, bool complain) {
    if (!contains(g)) return {Errc::not_found};
    if (g == kRootGroup) return {Errc::permission};
    const GroupId parent = nodes_[g].parent;
    if (complain && parent != kRootGroup && !nodes_[parent].complain) return {Errc::permission};
    if (complain)
      nodes_[g].complain = true;
    else
      enforce_subtree(g);
    return {};
  }

  Errors set_limit(GroupId g, int limit, bool depth_limit) {
    Errors e;
    if (limit < 0) e.insert(Errc::out_of_range);
    if (!contains(g)) e.insert(Errc::not_found);
    if (e.empty()) (depth_limit ? nodes_[g].max_depth : nodes_[g].max_descendants) = limit;
    return e;
  }

  // Also returns the previous group through `previous`.
  Errors attach(GroupId g, Pid pid, std::optional<GroupId>& previous) {
    Errors e;
    if (pid <= 0) e.insert(Errc::out_of_range);
    if (!contains(g)) e.insert(Errc::not_found);
    if (!e.empty()) return e;
    previous = group_of(pid);
    member_of_[pid] = g;
    return e;
  }

  std::optional<GroupId> detach(Pid pid) {
    auto previous = group_of(pid);
    member_of_.erase(pid);
    return previous;
  }

 private:
  void deny_subtree(GroupId g, const Bits& s, int err) {
    nodes_[g].allowed &= ~s;
    for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
      if (s.test(nr)) nodes_[g].err[nr] = err;
    for (GroupId c : children(g)) deny_subtree(c, s, err);
  }
  void enforce_subtree(GroupId g) {
    nodes_[g].complain = false;
    for (GroupId c : children(g)) enforce_subtree(c);
  }

  std::map<GroupId, Node> nodes_;
  std::map<Pid, GroupId> member_of_;
};

inline Model::Bits to_bits(const SyscallSet& s) {
  Model::Bits b;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) b[nr] = s.test(nr);
  return b;
}

inline SyscallSet to_set(const Model::Bits& b) {
  SyscallSet s;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (b.test(nr)) {
      EXPECT_TRUE(Ok(s.set(nr)));
    }
  return s;
}

inline std::string show(const Model::Errors& e) {
  if (e.empty()) return "success";
  std::string out;
  for (Errc c : e) {
    if (!out.empty()) out += '|';
    out += describe(c);
  }
  return out;
}

template <class R>
testing::AssertionResult Matches(const R& r, const Model::Errors& want) {
  if (r.has_value() == want.empty() && (r.has_value() || want.contains(r.error().code)))
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "implementation: "
                                     << (r.has_value() ? "success"
                                                       : cat(describe(r.error().code), " (", r.error().message, ")"))
                                     << ", model: " << show(want);
}

}  // namespace syscg::hierarchy_testing
