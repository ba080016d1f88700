// A policy as writes to a group's control files (syscgfs's own grammar,
// README "Control-file grammar"), for `syscg import`. Pure.
//
//  - deny_commands: the numbers `allowed` lacks (but restart_syscall, which no
//    group may deny), grouped by errno, EPERM first and then ascending errno,
//    each group as runs "A" / "A-B" with ":ERRNO" (errno_names::name) unless
//    the errno is EPERM: "59 300-310 435:ENOSYS 56-58:EAGAIN".
//  - allow_commands: the numbers of `allowed` as runs, no errno.
// Each command is one write: tokens separated by single spaces, ending in a
// newline, at most `max_bytes` bytes with it (the mount takes 4096); a set
// needing more is split between tokens. No set, no command.
#pragma once

#include "core/deny_errnos.h"
#include "core/syscall_set.h"

#include <cstddef>
#include <string>
#include <vector>

namespace syscg::formats {

inline constexpr std::size_t kControlWriteMax = 4096;

std::vector<std::string> deny_commands(const SyscallSet& allowed, const DenyErrnos& errnos,
                                       std::size_t max_bytes = kControlWriteMax);
std::vector<std::string> allow_commands(const SyscallSet& allowed, std::size_t max_bytes = kControlWriteMax);

}  // namespace syscg::formats
