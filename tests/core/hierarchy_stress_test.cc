// Concurrency test of the group tree (core/hierarchy.h): writers mutate a
// shared Hierarchy at random while checkers take snapshots and assert the
// invariants every observable state must satisfy. Bounded by iteration counts,
// not by wall-clock time.
#include "core/hierarchy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace syscg {
namespace {

constexpr int kWriters = 6;
constexpr int kCheckers = 2;
constexpr int kIterations = 8000;  // per writer
constexpr Pid kPids = 24;
constexpr int kMaxWalk = 4;  // groups live at most kMaxWalk + 1 levels deep
constexpr int kPace = 25;    // a writer waits for a fresh snapshot every kPace iterations

// The first violation any thread saw, for a readable failure.
class Violations {
 public:
  void record(const std::string& what) {
    std::lock_guard lock(mu_);
    if (!any_.exchange(true)) first_ = what;
  }
  bool any() const { return any_.load(); }
  std::string first() const {
    std::lock_guard lock(mu_);
    return first_;
  }

 private:
  std::atomic<bool> any_{false};
  mutable std::mutex mu_;
  std::string first_;
};

// Successful operations of each kind, over all writers: the workload must not
// degenerate into errors only.
enum Op { kCreate, kRemove, kAllow, kDeny, kAttach, kOps };
const char* const kOpNames[kOps] = {"create", "remove", "allow", "deny", "attach"};
using Successes = std::array<std::atomic<int>, kOps>;

// Empty if the snapshot satisfies every invariant of hierarchy.h, otherwise a
// description of the first violation.
std::string violation(const std::vector<GroupInfo>& snap) {
  std::ostringstream out;
  if (snap.empty() || snap.front().id != kRootGroup) return "the snapshot does not start with the root";
  std::unordered_map<GroupId, std::size_t> index;
  std::unordered_map<GroupId, std::size_t> children;
  std::unordered_map<GroupId, std::size_t> descendants;
  std::size_t members = 0;
  for (std::size_t i = 0; i < snap.size(); ++i) {
    const GroupInfo& g = snap[i];
    if (!index.emplace(g.id, i).second) return (out << "group " << g.id << " listed twice", out.str());
    if (!g.allowed.test(kRestartSyscall))
      return (out << "group " << g.id << " '" << g.name << "' denies restart_syscall", out.str());
    members += g.nr_members;
    if (g.id == kRootGroup) {
      if (!g.allowed.full()) return (out << "the root allows only " << g.allowed.count() << " numbers", out.str());
      if (g.parent != kNoGroup || g.depth != 0) return "the root has a parent";
      continue;
    }
    const auto p = index.find(g.parent);
    if (p == index.end())
      return (out << "group " << g.id << " listed before (or without) its parent " << g.parent, out.str());
    const GroupInfo& parent = snap[p->second];
    if (!g.allowed.is_subset_of(parent.allowed)) {
      const unsigned extra = *SyscallSet(g.allowed).subtract(parent.allowed).begin();
      return (out << "group " << g.id << " '" << g.name << "' allows " << extra << ", its parent " << parent.id
                  << " does not",
              out.str());
    }
    if (g.depth != parent.depth + 1) return (out << "group " << g.id << " has depth " << g.depth, out.str());
    ++children[g.parent];
    for (GroupId a = g.parent; a != kNoGroup; a = snap[index.at(a)].parent) ++descendants[a];
  }
  for (const GroupInfo& g : snap) {
    if (g.nr_children != children[g.id])
      return (
          out << "group " << g.id << " reports " << g.nr_children << " children, the snapshot has " << children[g.id],
          out.str());
    if (g.nr_descendants != descendants[g.id])
      return (out << "group " << g.id << " reports " << g.nr_descendants << " descendants, the snapshot has "
                  << descendants[g.id],
              out.str());
  }
  if (members > static_cast<std::size_t>(kPids))
    return (out << members << " members for " << kPids << " pids", out.str());
  return {};
}

SyscallSet random_set(std::mt19937& rng) {
  const auto pick = [&](unsigned lo, unsigned hi) { return std::uniform_int_distribution<unsigned>(lo, hi)(rng); };
  SyscallSet s;
  const unsigned lo = pick(0, 9) < 7 ? pick(0, 40) : pick(0, kSyscallWidth - 1);
  const unsigned hi = std::min(lo + pick(0, 6), kSyscallWidth - 1);
  (void)s.set_range(lo, hi);
  (void)s.reset(kRestartSyscall);
  return s;
}

class Writer {
 public:
  Writer(Hierarchy& h, Violations& v, Successes& ok, const std::atomic<long>& snapshots, int index)
      : h_(h), v_(v), ok_(ok), snapshots_(snapshots), index_(index), rng_(1000u + static_cast<unsigned>(index)) {}

  void run() {
    for (iteration_ = 0; iteration_ < kIterations && !v_.any(); ++iteration_) {
      // Pacing: the checkers must observe states all along the run, not only
      // after the writers are done (threads start late under sanitizers).
      if (iteration_ % kPace == 0) {
        const long seen = snapshots_.load();
        while (snapshots_.load() == seen && !v_.any()) std::this_thread::yield();
      }
      step();
    }
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string name() { return std::string(1, static_cast<char>('a' + pick(0, 2))); }
  Pid pid() { return static_cast<Pid>(pick(1, kPids)); }

  // A random group: a walk down random names, or one this writer created
  // (possibly removed since by another writer).
  GroupId group() {
    if (!mine_.empty() && pick(0, 2) == 0)
      return mine_[static_cast<std::size_t>(pick(0, static_cast<int>(mine_.size()) - 1))];
    GroupId g = kRootGroup;
    for (int depth = pick(0, kMaxWalk); depth > 0; --depth) {
      auto r = h_.lookup(g, name());
      if (!r.has_value()) break;
      g = r.value();
    }
    return g;
  }

  // Success, or one of the errors the contract permits for this operation.
  template <class R>
  void expect(const R& r, std::initializer_list<Errc> allowed, const char* op, GroupId g, Op kind = kOps) {
    if (r.has_value()) {
      if (kind != kOps) ++ok_[kind];
      return;
    }
    for (Errc e : allowed)
      if (r.error().code == e) return;
    fail(op, g, std::string("unexpected ") + std::string(errno_name(r.error().code)) + ": " + r.error().message);
  }
  void fail(const char* op, GroupId g, const std::string& what) {
    std::ostringstream out;
    out << "writer " << index_ << " iteration " << iteration_ << ": " << op << "(" << g << "): " << what;
    v_.record(out.str());
  }

  void step() {
    const int op = pick(0, 99);
    const GroupId g = group();
    if (op < 25) {
      auto r = h_.create(g, name());
      expect(r, {Errc::not_found, Errc::exists, Errc::limit}, "create", g, kCreate);
      if (r.has_value()) {
        if (mine_.size() >= 16) mine_.erase(mine_.begin());
        mine_.push_back(r.value());
      }
    } else if (op < 45) {
      auto r = h_.remove(g);
      expect(r, {Errc::not_found, Errc::busy}, "remove", g, kRemove);
      if (g == kRootGroup && r.has_value()) fail("remove", g, "removed the root");
    } else if (op < 60) {
      SyscallSet s = random_set(rng_);
      if (pick(0, 1) == 0) {  // the parent's whole set: succeeds unless raced
        auto i = h_.info(g);
        if (i.has_value() && i.value().parent != kNoGroup) {
          auto p = h_.allowed(i.value().parent);
          if (p.has_value()) s = p.value();
        }
      }
      auto r = h_.allow(g, s);
      expect(r, {Errc::not_found, Errc::permission}, "allow", g, kAllow);
      if (g == kRootGroup && r.has_value()) fail("allow", g, "changed the root");
    } else if (op < 75) {
      SyscallSet s = random_set(rng_);
      const bool restart = pick(0, 9) == 0;
      if (restart) (void)s.set(kRestartSyscall);
      auto r = h_.deny(g, s);
      expect(r, {Errc::not_found, Errc::permission, Errc::invalid}, "deny", g, kDeny);
      if (r.has_value() && (restart || g == kRootGroup))
        fail("deny", g, "succeeded on the root or for restart_syscall");
    } else if (op < 87) {
      expect(h_.attach(g, pid()), {Errc::not_found}, "attach", g, kAttach);
    } else if (op < 95) {
      h_.detach(pid());
    } else {
      if (g == kRootGroup) return;  // a small limit on the root would starve the test
      const int limit = pick(0, 1) == 0 ? grammar::kUnlimited : pick(1, 3);
      expect(pick(0, 1) == 0 ? h_.set_max_depth(g, limit) : h_.set_max_descendants(g, limit), {Errc::not_found},
             "set_max", g);
    }
  }

  Hierarchy& h_;
  Violations& v_;
  Successes& ok_;
  const std::atomic<long>& snapshots_;
  int index_;
  std::mt19937 rng_;
  int iteration_ = 0;
  std::vector<GroupId> mine_;
};

TEST(HierarchyStress, ConcurrentWritersNeverBreakTheInvariants) {
  Hierarchy h;
  Violations violations;
  Successes successes{};
  std::atomic<int> writers_left{kWriters};
  std::atomic<long> snapshots{0};
  std::atomic<long> queries{0};

  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] {
      Writer(h, violations, successes, snapshots, i).run();
      --writers_left;
    });
  for (int i = 0; i < kCheckers; ++i)
    threads.emplace_back([&, i] {
      do {
        const std::string v = violation(h.snapshot());
        if (!v.empty()) violations.record("checker " + std::to_string(i) + ": " + v);
        ++snapshots;
        std::this_thread::yield();
      } while (writers_left.load() > 0 && !violations.any());
    });
  // Readers for liveness: their answers may interleave with writes, so only
  // what holds in every state is asserted.
  threads.emplace_back([&] {
    std::mt19937 rng(7);
    do {
      const GroupId g = std::uniform_int_distribution<GroupId>(kRootGroup, 400)(rng);
      const unsigned nr = std::uniform_int_distribution<unsigned>(0, kSyscallWidth + 8)(rng);
      (void)h.check(g, nr);
      (void)h.check_naive(g, nr);
      (void)h.path(g);
      (void)h.children(g);
      (void)h.members(g);
      (void)h.group_of(static_cast<Pid>(nr % kPids + 1));
      // Ids are never reused: a group seen before and after the check existed
      // during it, so restart_syscall must have been allowed.
      if (h.info(g).has_value() && !h.check(g, kRestartSyscall) && h.info(g).has_value())
        violations.record("check(" + std::to_string(g) + ", restart_syscall) is false for a live group");
      if (h.check(kRootGroup, nr) != (nr < kSyscallWidth) || h.check_naive(kRootGroup, nr) != (nr < kSyscallWidth))
        violations.record("the root's check(" + std::to_string(nr) + ") is wrong");
      ++queries;
      std::this_thread::yield();
    } while (writers_left.load() > 0 && !violations.any());
  });
  for (auto& t : threads) t.join();

  ASSERT_FALSE(violations.any()) << violations.first();
  EXPECT_GE(snapshots.load(), kIterations / kPace);
  EXPECT_GT(queries.load(), 0);
  for (int op = 0; op < kOps; ++op) EXPECT_GT(successes[op].load(), 0) << "no " << kOpNames[op] << " ever succeeded";
  std::printf("[ stats    ] %ld snapshots checked, %ld reader rounds, %zu groups at the end, successes:",
              snapshots.load(), queries.load(), h.snapshot().size());
  for (int op = 0; op < kOps; ++op) std::printf(" %s %d", kOpNames[op], successes[op].load());
  std::printf("\n");

  // Quiescent now: the final state satisfies the invariants, the flattened
  // check equals the naive one everywhere, and membership is consistent.
  const auto snap = h.snapshot();
  ASSERT_EQ(violation(snap), "");
  EXPECT_GT(snap.size(), 1u) << "the writers never built a tree";
  for (const GroupInfo& g : snap)
    for (std::uint64_t nr = 0; nr < kSyscallWidth + 4; ++nr) {
      ASSERT_EQ(h.check(g.id, nr), g.allowed.test(nr)) << "group " << g.id << " nr " << nr;
      ASSERT_EQ(h.check_naive(g.id, nr), g.allowed.test(nr)) << "group " << g.id << " nr " << nr;
    }
  std::size_t members = 0;
  for (const GroupInfo& g : snap) {
    auto m = h.members(g.id);
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(m.value().size(), g.nr_members);
    for (Pid pid : m.value()) EXPECT_EQ(h.group_of(pid), g.id) << "pid " << pid;
    members += g.nr_members;
  }
  std::size_t attached = 0;
  for (Pid pid = 1; pid <= kPids; ++pid) attached += h.group_of(pid).has_value();
  EXPECT_EQ(members, attached);

  // Tear down: children before parents (the snapshot lists parents first).
  for (Pid pid = 1; pid <= kPids; ++pid) h.detach(pid);
  for (auto it = snap.rbegin(); it != snap.rend(); ++it) {
    if (it->id != kRootGroup) {
      EXPECT_TRUE(h.remove(it->id).has_value()) << "group " << it->id;
    }
  }
  const auto empty = h.snapshot();
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty.front().nr_descendants, 0u);
}

}  // namespace
}  // namespace syscg
