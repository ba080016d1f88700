#include "enforcer/program_cache.h"

#include "enforcer/bpf/compiler.h"

namespace syscg::enforcer {

Result<ProgramCache::Shared> ProgramCache::get(const SyscallSet& allowed, const SyscallSet& notify,
                                               const DenyErrnos& errnos) {
  MutexLock lock(mu_);
  // Entries of allowed or routed numbers change nothing in the program.
  DenyErrnos denied_errnos;
  denied_errnos.assign_from(errnos, errnos.numbers().subtract(allowed | notify));
  auto key = std::make_tuple(allowed, notify, std::move(denied_errnos));
  if (auto it = programs_.find(key); it != programs_.end()) return it->second;
  BOOST_OUTCOME_TRY(program, bpf::compile(allowed, notify, std::get<2>(key)));
  auto shared = std::make_shared<const bpf::Program>(std::move(program));
  programs_.emplace(std::move(key), shared);
  return shared;
}

std::size_t ProgramCache::size() const {
  MutexLock lock(mu_);
  return programs_.size();
}

}  // namespace syscg::enforcer
