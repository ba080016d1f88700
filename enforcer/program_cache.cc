#include "enforcer/program_cache.h"

#include "enforcer/bpf/compiler.h"

namespace syscg::enforcer {

Result<ProgramCache::Shared> ProgramCache::get(const SyscallSet& allowed, const SyscallSet& notify) {
  MutexLock lock(mu_);
  auto key = std::make_pair(allowed, notify);
  if (auto it = programs_.find(key); it != programs_.end()) return it->second;
  BOOST_OUTCOME_TRY(program, bpf::compile(allowed, notify));
  auto shared = std::make_shared<const bpf::Program>(std::move(program));
  programs_.emplace(std::move(key), shared);
  return shared;
}

std::size_t ProgramCache::size() const {
  MutexLock lock(mu_);
  return programs_.size();
}

}  // namespace syscg::enforcer
