// Named sets of system calls ("@system-service", "@mount", ...): systemd's
// sets, as systemd kSystemdVersion defines them (src/shared/seccomp-util.c,
// listed by `systemd-analyze syscall-filter`), so a policy written for
// SystemCallFilter= reads the same here. One table; nested sets ("@basic-io"
// inside "@system-service") are resolved; names the native (x86_64) table
// does not know are left out (other architectures' calls, newer calls).
// Pure and immutable: lookups are thread-safe.
#pragma once

#include "core/syscall_set.h"

#include <optional>
#include <string_view>
#include <vector>

namespace syscg::syscall_groups {

inline constexpr std::string_view kSystemdVersion = "252";

// The numbers of a set, by its name with the '@' ("@mount"); nullopt for an
// unknown name.
std::optional<SyscallSet> lookup(std::string_view name);
// Every set's name with its '@', sorted.
std::vector<std::string_view> names();
// A set's entries as the table lists them: system call names and nested
// "@set" names (for comparing with systemd-analyze); empty when unknown.
std::vector<std::string_view> entries(std::string_view name);

}  // namespace syscg::syscall_groups
