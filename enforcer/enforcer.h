// The enforcer behind syscgfs's Enforcement seam: members of a group run
// under a seccomp filter compiled from the group's set.
//
//  - attach(): compiles the group's set (bpf::compile) and has the target
//    install it by ptrace injection (tracer.h), before the cgroup.procs write
//    returns; a set that allows everything needs no filter.
//  - policy_changed(): stacks the new filter on every listed member.
//  - Fork and exit tracking through the process-events connector
//    (proc_events.h): children of members are reported to the listener.
//  - It never stays attached between operations: strace and gdb keep working.
//  - It holds a pidfd for every process it has seen join (attach, fork), so
//    alive() is never fooled by a recycled pid.
//
// Thread safety: every method may be called from any FUSE worker; ptrace work
// is serialised on the tracer thread.
#pragma once

#include "enforcer/proc_events.h"
#include "enforcer/tracer.h"
#include "enforcer/unique_fd.h"
#include "fs/enforcement.h"

#include <map>
#include <memory>
#include <mutex>
#include <sys/types.h>

namespace syscg::enforcer {

class Enforcer final : public fs::Enforcement, private ProcEventHandler {
 public:
  explicit Enforcer(std::chrono::milliseconds stop_deadline = std::chrono::seconds(2));
  ~Enforcer() override;
  // Starts the tracer thread and fork tracking; call once, after the daemon
  // has forked into the background (threads do not survive fork).
  void start();

  void set_listener(fs::MembershipListener* listener) override;
  void sync() override;
  Result<fs::Process> identify(Pid written, Pid writer_tid) override;
  Result<Pid> thread_group(Pid tid) override;
  bool adopt(Pid pid, std::uint64_t start_time) override;
  bool alive(Pid pid) override;
  Status attach(Pid pid, GroupId group, const SyscallSet& allowed, Pid writer_tid) override;
  Result<std::vector<fs::Fork>> policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) override;

 private:
  void forked(Pid parent, Pid child) override;
  void exited(Pid pid) override;
  void lost() override;
  void rescan();
  void track(Pid pid);  // opens and keeps a pidfd for pid
  void forget(Pid pid);
  Result<std::shared_ptr<const Program>> program_for(const SyscallSet& allowed);

  pid_t self_;
  std::mutex listener_mu_;
  fs::MembershipListener* listener_ = nullptr;
  std::mutex cache_mu_;
  std::map<SyscallSet, std::shared_ptr<const Program>> programs_;
  std::atomic<bool> lost_{false};
  std::mutex pidfds_mu_;
  std::map<Pid, UniqueFd> pidfds_;
  std::map<Pid, SyscallSet> enforced_;  // what each member's filters allow; guarded by pidfds_mu_
  Tracer tracer_;
  std::unique_ptr<ProcEvents> events_;  // last: its thread calls into this object
};

}  // namespace syscg::enforcer
