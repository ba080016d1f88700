// Compiled seccomp programs, memoised: each (allowed, notify, errnos) is
// compiled once (bpf::compile) and shared by every injection that needs it.
//
// Contract: get() returns the same program object for equal keys, and
// exactly what bpf::compile returns for them; compile errors are returned
// and not remembered. Safe from any thread; its lock is a leaf (nothing is
// called with it held but the compiler).
#pragma once

#include "core/error.h"
#include "core/mutex.h"
#include "core/deny_errnos.h"
#include "core/syscall_set.h"
#include "enforcer/bpf/program.h"

#include <map>
#include <memory>
#include <tuple>
#include <utility>

namespace syscg::enforcer {

class ProgramCache {
 public:
  using Shared = std::shared_ptr<const bpf::Program>;
  // The filter that runs `allowed`, asks the supervisor about `notify`
  // (USER_NOTIF), and denies the rest with their `errnos`.
  Result<Shared> get(const SyscallSet& allowed, const SyscallSet& notify = {}, const DenyErrnos& errnos = {})
      SYSCG_EXCLUDES(mu_);
  std::size_t size() const SYSCG_EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::map<std::tuple<SyscallSet, SyscallSet, DenyErrnos>, Shared> programs_ SYSCG_GUARDED_BY(mu_);
};

}  // namespace syscg::enforcer
