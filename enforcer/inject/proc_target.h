// The real inject::Target: a live process, read through /proc (procfs.h),
// its threads seized with ptrace (seized.h).
#pragma once

#include "enforcer/inject/pending.h"
#include "enforcer/inject/ptrace_sys.h"
#include "enforcer/inject/target.h"
#include "enforcer/memory_sharing.h"

namespace syscg::enforcer::inject {

class ProcTarget final : public Target {
 public:
  // `pin`, when valid, is the pidfd of the process identified earlier.
  ProcTarget(pid_t tgid, const sys::UniqueFd& pin, Pending& pending, MemorySharing& sharing)
      : tgid_(tgid), pin_(pin), pending_(pending), sharing_(sharing) {}

  pid_t tgid() const override { return tgid_; }
  std::vector<pid_t> threads() override;
  Result<ThreadPtr> seize(pid_t tid) override;
  bool in_group(pid_t tid) override;
  std::optional<unsigned> chain_length(pid_t tid) override;
  std::set<pid_t> children() override;
  bool shares_memory() override { return sharing_.shared(tgid_); }
  bool in_our_user_namespace() override;
  bool ended() override;
  void pause() override { backoff_.pause(); }

 private:
  pid_t tgid_;
  const sys::UniqueFd& pin_;
  Pending& pending_;
  MemorySharing& sharing_;
  Backoff backoff_;
};

}  // namespace syscg::enforcer::inject
