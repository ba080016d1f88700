// The ids every part of syscg shares: processes and groups.
#pragma once

#include <cstdint>

namespace syscg {

using GroupId = std::uint64_t;
inline constexpr GroupId kNoGroup = 0;
inline constexpr GroupId kRootGroup = 1;
using Pid = std::int32_t;  // a process (thread group) id or a thread id, as the kernel's pid_t

}  // namespace syscg
