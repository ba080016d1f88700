// The unit tests' fixture for syscgfs's file semantics without a mount: the
// Filesystem over a real Hierarchy, a recording fake of the Enforcement
// seam and a MemoryLog.
#pragma once

#include "core/grammar.h"
#include "enforcer/sys/log.h"
#include "fs/filesystem.h"
#include "fs/state.h"
#include "fs/store.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace syscg::fs::unit {

class RecordingEnforcement : public Enforcement {
 public:
  struct Attach {
    Pid pid;
    GroupId group;
    SyscallSet allowed;
  };

  Result<Process> identify(Pid written, Pid writer_tid) override {
    const Pid pid = written == 0 ? writer_tid : written;
    auto it = processes.find(pid);
    if (it == processes.end()) return make_error(Errc::no_process, "no such process");
    return it->second;
  }
  Result<Pid> thread_group(Pid tid) override {
    auto it = processes.find(tid);
    if (it == processes.end()) return make_error(Errc::no_process, "no such process");
    return it->second.tgid;
  }
  bool alive(Pid pid) override { return !exited.contains(pid); }
  bool adopt(Pid pid, std::uint64_t, const SyscallSet& allowed) override {
    adopted[pid] = allowed;
    return !exited.contains(pid);
  }
  std::vector<Loss> stricter(Pid pid, const SyscallSet& allowed) override {
    std::vector<Loss> out;
    if (auto it = lost.find(pid); it != lost.end())
      if (auto numbers = it->second & allowed; !numbers.empty()) out.push_back({numbers, "tightened"});
    return out;
  }
  void set_listener(MembershipListener* l) override { listener = l; }
  void barrier() override { ++barriers; }
  void sync() override { ++syncs; }
  std::unique_lock<std::mutex> pause_events() override { return std::unique_lock(pause_mu); }
  bool may_subvert(Pid pid) override { return ptrace_capable.contains(pid); }
  Status attach(Pid pid, std::uint64_t, GroupId group, const SyscallSet& allowed, const DenyErrnos&, Pid) override {
    attaches.push_back({pid, group, allowed});
    if (refuse_attach) return make_error(*refuse_attach, "refused by the fake");
    return outcome::success();
  }
  Result<Tightened> policy_changed(std::span<const MemberPolicy> members, Pid) override {
    changes.emplace_back(members.begin(), members.end());
    Tightened out;
    for (const auto& m : members) {
      if (!exited.contains(m.pid)) out.filtered.push_back(m.pid);
      if (auto it = unfiltered_children.find(m.pid); it != unfiltered_children.end()) {
        listener->forked(m.pid, it->second);  // as the fork event would have
        out.unfiltered.push_back({m.pid, it->second});
      }
    }
    return out;
  }

  std::map<Pid, Process> processes;  // tid -> process
  std::set<Pid> exited;
  std::optional<Errc> refuse_attach;
  std::map<Pid, Pid> unfiltered_children;  // parent -> a child it forked before being tightened
  std::map<Pid, SyscallSet> adopted;       // restored members and their groups' sets
  std::map<Pid, SyscallSet> lost;          // what stricter() reports, as "tightened"
  std::set<Pid> ptrace_capable;            // what may_subvert() reports
  std::mutex pause_mu;
  MembershipListener* listener = nullptr;
  int syncs = 0;
  int barriers = 0;
  std::vector<Attach> attaches;
  std::vector<std::vector<MemberPolicy>> changes;
};

// The writers' own processes (4000, 2500) are members of no group.
constexpr Caller kRoot{0, 0, 4000};
constexpr Caller kUser{1000, 1000, 2500};

class FilesystemTest : public ::testing::Test {
 protected:
  FilesystemTest() : fs_(hierarchy_, fake_, log_) {
    fake_.processes[1000] = {1000, 0, 0, 0, 10000};
    fake_.processes[2000] = {2000, 1000, 1000, 1000, 20000};
    fake_.processes[2001] = {2000, 1000, 1000, 1000, 20000};  // a second thread of 2000
    fake_.processes[3000] = {3000, 0, 0, 0, 30000};
    fake_.processes[4000] = {4000, 0, 0, 0, 40000};
    fake_.processes[2500] = {2500, 1000, 1000, 1000, 25000};
    fake_.set_listener(&fs_);  // as the composition root does
  }

  Ino mkdir(Ino parent, const std::string& name, const Caller& who = kRoot) {
    auto e = fs_.mkdir(parent, name, 0755, who);
    EXPECT_TRUE(e) << name;
    return e ? e.value().ino : 0;
  }
  Ino file(Ino dir, const std::string& name) { return fs_.lookup(dir, name).value().ino; }
  // Opens, writes one command, closes; returns 0 or the errno.
  int write(Ino dir, const std::string& name, const std::string& text, const Caller& who = kRoot) {
    auto h = fs_.open(file(dir, name), O_WRONLY, who);
    if (!h) return to_errno(h.error().code);
    auto r = fs_.write(h.value(), text, who);
    fs_.release(h.value());
    return r ? 0 : to_errno(r.error().code);
  }
  std::string read(Ino dir, const std::string& name) {
    auto h = fs_.open(file(dir, name), O_RDONLY, kRoot).value();
    auto r = fs_.read(h, 0, 1 << 20).value();
    fs_.release(h);
    return r;
  }

  Hierarchy hierarchy_;
  RecordingEnforcement fake_;
  sys::MemoryLog log_;
  Filesystem fs_;
};

}  // namespace syscg::fs::unit
