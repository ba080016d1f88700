#include "core/syscall_groups.h"

namespace syscg::syscall_groups {

std::optional<SyscallSet> lookup(std::string_view) { return std::nullopt; }
std::vector<std::string_view> names() { return {}; }
std::vector<std::string_view> entries(std::string_view) { return {}; }

}  // namespace syscg::syscall_groups
