// The enforcer behind syscgfs's Enforcement seam.
//
// Today (issue 3) it identifies processes through /proc and accepts every
// change without installing filters; issue 4 adds the seccomp compiler, the
// launch path and ptrace injection here.
#pragma once

#include "fs/enforcement.h"

#include <sys/types.h>

namespace syscg::enforcer {

class Enforcer final : public fs::Enforcement {
 public:
  Enforcer();

  Result<fs::Process> identify(Pid written, Pid writer_tid) override;
  bool alive(Pid pid) override;
  Status attach(Pid pid, GroupId group, const SyscallSet& allowed) override;
  Status policy_changed(std::span<const MemberPolicy> members) override;

 private:
  pid_t self_;
};

}  // namespace syscg::enforcer
