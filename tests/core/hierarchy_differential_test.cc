// Unit tests of the group tree (core/hierarchy.h): a randomized differential
// test against a naive reference model (hierarchy_model.h).
#include "tests/core/hierarchy_model.h"

#include "core/hierarchy.h"

#include "core/grammar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace syscg {
namespace {

using namespace hierarchy_testing;

class Driver {
 public:
  explicit Driver(unsigned seed) : rng_(seed) { known_.push_back(kRootGroup); }

  // One random operation on both; false once a mismatch has been reported.
  bool step() {
    const int op = pick(0, 99);
    if (op < 25) return do_create();
    if (op < 42) return do_remove();
    if (op < 62) return do_allow();
    if (op < 78) return do_deny();
    if (op < 82) return do_mode();
    if (op < 87) return do_attach();
    if (op < 92) return do_detach();
    return do_limit();
  }

  bool compare() const {
    const auto snap = h_.snapshot();
    if (snap.size() != model_.nodes().size()) {
      ADD_FAILURE() << "snapshot has " << snap.size() << " groups, model " << model_.nodes().size();
      return false;
    }
    std::map<GroupId, const GroupInfo*> by_id;
    for (const auto& g : snap) by_id[g.id] = &g;
    for (const auto& [id, n] : model_.nodes()) {
      auto it = by_id.find(id);
      if (it == by_id.end()) {
        ADD_FAILURE() << "group " << id << " missing from the snapshot";
        return false;
      }
      const GroupInfo& g = *it->second;
      EXPECT_EQ(g.parent, n.parent) << id;
      EXPECT_EQ(g.name, n.name) << id;
      EXPECT_EQ(g.depth, model_.depth(id)) << id;
      EXPECT_EQ(g.nr_children, model_.children(id).size()) << id;
      EXPECT_EQ(g.nr_descendants, model_.descendants(id)) << id;
      EXPECT_EQ(g.nr_members, model_.members(id)) << id;
      EXPECT_EQ(g.max_depth, n.max_depth) << id;
      EXPECT_EQ(g.max_descendants, n.max_descendants) << id;
      EXPECT_EQ(to_bits(g.allowed), n.allowed) << "allowed set of group " << id;
      EXPECT_EQ(g.complain, n.complain) << "mode of group " << id;
      for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
        if (g.errnos.of(nr) != n.err[nr]) {
          ADD_FAILURE() << "errno of " << nr << " in group " << id << ": " << g.errnos.of(nr) << ", model "
                        << n.err[nr];
          break;
        }
      EXPECT_TRUE(g.allowed.test(kRestartSyscall)) << id;
      if (id == kRootGroup) {
        EXPECT_TRUE(g.allowed.full());
      } else {
        EXPECT_TRUE(g.allowed.is_subset_of(by_id.at(g.parent)->allowed)) << "subset invariant, group " << id;
      }
    }
    for (int i = 0; i < 4; ++i) {
      const GroupId g = any_group();
      const unsigned nr = static_cast<unsigned>(pick(0, kSyscallWidth + 20));
      const bool want = model_.contains(g) && nr < kSyscallWidth && model_.nodes().at(g).allowed.test(nr);
      EXPECT_EQ(h_.check(g, nr), want) << "check(" << g << ", " << nr << ")";
      EXPECT_EQ(h_.check_naive(g, nr), want) << "check_naive(" << g << ", " << nr << ")";
    }
    for (Pid pid = 1; pid <= kPids; ++pid) EXPECT_EQ(h_.group_of(pid), model_.group_of(pid)) << "pid " << pid;
    return !testing::Test::HasFailure();
  }

  const std::string& last() const { return last_; }
  // How often each "operation outcome" occurred, e.g. "create EEXIST".
  const std::map<std::string, int>& stats() const { return stats_; }
  std::size_t size() const { return model_.nodes().size(); }

 private:
  static constexpr Pid kPids = 8;

  int pick(int lo, int hi) const { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) const { return pick(0, 99) < percent; }

  std::vector<GroupId> live() const {
    std::vector<GroupId> out;
    for (const auto& entry : model_.nodes()) out.push_back(entry.first);
    return out;
  }
  // Mostly live groups, sometimes removed or never-existing ids.
  GroupId any_group() const {
    if (chance(8)) return known_[static_cast<std::size_t>(pick(0, static_cast<int>(known_.size()) - 1))];
    if (chance(2)) return 9999;
    const auto ids = live();
    return ids[static_cast<std::size_t>(pick(0, static_cast<int>(ids.size()) - 1))];
  }
  GroupId any_non_root() const {
    for (int i = 0; i < 4; ++i) {
      const GroupId g = any_group();
      if (g != kRootGroup) return g;
    }
    return any_group();
  }
  // Numbers cluster in a small hot domain (with restart_syscall in it) so that
  // allows and denies interact, with the occasional number anywhere.
  unsigned any_nr() const {
    const int k = pick(0, 9);
    if (k < 6) return static_cast<unsigned>(pick(0, 31));
    if (k < 9) return static_cast<unsigned>(pick(214, 224));
    return static_cast<unsigned>(pick(0, kSyscallWidth - 1));
  }
  Model::Bits any_bits() const {
    Model::Bits b;
    switch (pick(0, 9)) {
      case 0:
      case 1:
      case 2: b.set(any_nr()); break;
      case 3:
      case 4:
      case 5: {
        const unsigned lo = any_nr();
        const unsigned hi = std::min<unsigned>(lo + static_cast<unsigned>(pick(0, 8)), kSyscallWidth - 1);
        for (unsigned nr = lo; nr <= hi; ++nr) b.set(nr);
        break;
      }
      case 6:
      case 7:
      case 8:
        for (int i = pick(1, 4); i > 0; --i) b.set(any_nr());
        break;
      default:
        b = to_bits(deny_all());
        if (chance(50)) b.set(kRestartSyscall);
    }
    return b;
  }
  std::string any_name() const {
    static const std::vector<std::string> names = {"a", "b", "c", "d"};
    static const std::vector<std::string> bad = {"", "..", "x/y", "cgroup.procs"};
    if (chance(4)) return bad[static_cast<std::size_t>(pick(0, 3))];
    return names[static_cast<std::size_t>(pick(0, 3))];
  }

  // Compares one operation's outcome with the model's prediction.
  template <class R>
  bool expect(const R& r, const Model::Errors& want, std::string what) {
    last_ = std::move(what);
    const auto match = Matches(r, want);
    ++stats_[cat(last_.substr(0, last_.find('(')), " ", r.has_value() ? std::string("ok") : describe(r.error().code))];
    EXPECT_TRUE(match) << last_;
    return static_cast<bool>(match);
  }

  bool do_create() {
    // Bias towards shallow parents so the tree stays bushy and small.
    GroupId parent = any_group();
    if (model_.contains(parent) && model_.depth(parent) > 4 && chance(70)) parent = kRootGroup;
    const std::string name = any_name();
    auto r = h_.create(parent, name);
    const GroupId id = r.has_value() ? r.value() : kNoGroup;
    if (r.has_value()) {
      EXPECT_TRUE(std::find(known_.begin(), known_.end(), id) == known_.end()) << "id " << id << " reused";
      known_.push_back(id);
    }
    return expect(r, model_.create(parent, name, id),
                  cat("create(", std::to_string(parent), ", '", name, "') -> ", std::to_string(id)));
  }

  bool do_remove() {
    GroupId g = any_group();
    if (chance(50)) {  // prefer a leaf
      for (GroupId id : live())
        if (id != kRootGroup && model_.children(id).empty() && chance(30)) g = id;
    }
    return expect(h_.remove(g), model_.remove(g), cat("remove(", std::to_string(g), ")"));
  }

  bool do_allow() {
    const GroupId g = any_non_root();
    Model::Bits b = any_bits();
    // Half the time, stay within the parent's set so that allows succeed.
    if (chance(50) && model_.contains(g) && g != kRootGroup)
      b &= model_.nodes().at(model_.nodes().at(g).parent).allowed;
    return expect(h_.allow(g, to_set(b)), model_.allow(g, b),
                  cat("allow(", std::to_string(g), ", ", grammar::format_syscall_list(to_set(b)), ")"));
  }

  bool do_deny() {
    const GroupId g = any_group();
    const Model::Bits b = any_bits();
    // Errnos: mostly EPERM, sometimes one of two others (a later deny of
    // the same numbers changes them).
    static constexpr int kErrnos[] = {EPERM, EPERM, ENOSYS, EACCES};
    const int err = kErrnos[pick(0, 3)];
    DenyErrnos errnos;
    errnos.assign(to_set(b), err);
    return expect(
        h_.deny(g, to_set(b), errnos), model_.deny(g, b, err),
        cat("deny(", std::to_string(g), ", ", grammar::format_syscall_list(to_set(b)), ":", std::to_string(err), ")"));
  }

  bool do_mode() {
    const GroupId g = any_group();
    const bool complain = chance(60);
    return expect(h_.set_complain(g, complain), model_.set_complain(g, complain),
                  cat("set_complain(", std::to_string(g), ", ", complain ? "complain" : "enforce", ")"));
  }

  bool do_attach() {
    const GroupId g = any_group();
    const Pid pid = chance(5) ? static_cast<Pid>(pick(-2, 0)) : static_cast<Pid>(pick(1, kPids));
    auto r = h_.attach(g, pid);
    std::optional<GroupId> previous;
    auto want = model_.attach(g, pid, previous);
    const std::string what = cat("attach(", std::to_string(g), ", ", std::to_string(pid), ")");
    if (!expect(r, want, what)) return false;
    if (r.has_value() && r.value() != previous) {
      ADD_FAILURE() << what << " returned the wrong previous group";
      return false;
    }
    return true;
  }

  bool do_detach() {
    const Pid pid = static_cast<Pid>(pick(0, kPids));
    last_ = cat("detach(", std::to_string(pid), ")");
    const auto got = h_.detach(pid);
    const auto want = model_.detach(pid);
    EXPECT_EQ(got, want) << last_;
    return got == want;
  }

  bool do_limit() {
    const GroupId g = any_group();
    const bool depth = chance(50);
    const int limit = chance(5) ? -1 : chance(70) ? kUnlimited : pick(0, 4);
    auto r = depth ? h_.set_max_depth(g, limit) : h_.set_max_descendants(g, limit);
    return expect(
        r, model_.set_limit(g, limit, depth),
        cat(depth ? "set_max_depth(" : "set_max_descendants(", std::to_string(g), ", ", std::to_string(limit), ")"));
  }

  mutable std::mt19937 rng_;
  Hierarchy h_;
  Model model_;
  std::vector<GroupId> known_;  // every id ever handed out
  std::string last_;
  std::map<std::string, int> stats_;
};

TEST(HierarchyTest, DifferentialAgainstReferenceModel) {
  constexpr int kSteps = 2500;
  for (unsigned seed : {1u, 2u, 3u, 20110517u}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Driver d(seed);
    std::size_t largest = 0;
    for (int i = 0; i < kSteps; ++i) {
      SCOPED_TRACE(testing::Message() << "step " << i);
      const bool ok = d.step();
      if (!ok || !d.compare()) {
        ADD_FAILURE() << "first divergence at step " << i << ": " << d.last();
        return;
      }
      largest = std::max(largest, d.size());
    }
    // The generator must not degenerate: every outcome the contract defines
    // for these operations occurred, and the tree grew beyond a few groups.
    std::string summary;
    for (const auto& [outcome, n] : d.stats()) summary += cat(outcome, ": ", std::to_string(n), ", ");
    SCOPED_TRACE(summary);
    for (const char* outcome : {"create ok",       "create EINVAL",     "create ENOENT",
                                "create EEXIST",   "create EAGAIN",     "remove ok",
                                "remove EBUSY",    "remove ENOENT",     "allow ok",
                                "allow EPERM",     "allow ENOENT",      "deny ok",
                                "deny EINVAL",     "deny EPERM",        "attach ok",
                                "attach ERANGE",   "set_max_depth ok",  "set_max_descendants ERANGE",
                                "set_complain ok", "set_complain EPERM"})
      EXPECT_TRUE(d.stats().contains(outcome)) << outcome;
    EXPECT_GE(largest, 10u);
  }
}

}  // namespace
}  // namespace syscg
