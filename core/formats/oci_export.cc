#include "core/formats/oci.h"

#include "core/syscall_table.h"

#include <nlohmann/json.hpp>

#include <map>

namespace syscg::formats {

namespace {
constexpr unsigned kClone3 = 435;
}  // namespace

std::string to_oci(const SyscallSet& allowed, const DenyErrnos& errnos) {
  nlohmann::ordered_json allow_names = nlohmann::ordered_json::array();
  std::map<int, nlohmann::ordered_json> by_errno;  // errno -> names, ascending errno
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    const auto name = syscall_table::name(nr);
    if (!name) continue;  // denied by the default: the fail-closed choice
    if (nr == kClone3) {
      by_errno[ENOSYS].push_back(*name);
    } else if (nr == kRestartSyscall || allowed.test(nr)) {
      allow_names.push_back(*name);
    } else if (const int err = errnos.of(nr); err != EPERM) {
      by_errno[err].push_back(*name);
    }
  }
  nlohmann::ordered_json syscalls = nlohmann::ordered_json::array();
  if (!allow_names.empty()) syscalls.push_back({{"names", allow_names}, {"action", "SCMP_ACT_ALLOW"}});
  for (auto& [err, names] : by_errno)
    syscalls.push_back({{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", err}});
  nlohmann::ordered_json doc;
  doc["defaultAction"] = "SCMP_ACT_ERRNO";
  doc["defaultErrnoRet"] = EPERM;
  doc["architectures"] = {"SCMP_ARCH_X86_64"};
  doc["syscalls"] = std::move(syscalls);
  return doc.dump(2) + "\n";
}

}  // namespace syscg::formats
