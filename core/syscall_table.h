// The project's one table of native (x86_64) system call names and numbers.
//
// Built once, on first use, from libseccomp's table for SCMP_ARCH_X86_64 and
// immutable afterwards, so lookups are thread-safe. Covers 0..kSyscallWidth-1;
// numbers without a syscall (gaps in the table) have no name.
#pragma once

#include <optional>
#include <string_view>

namespace syscg::syscall_table {

// The number of a native syscall name ("execve" -> 59), or nullopt.
std::optional<unsigned> number(std::string_view name);
// The name of a native number (59 -> "execve"), or nullopt for a gap.
std::optional<std::string_view> name(unsigned nr);
// The largest native number that has a name.
unsigned highest_named();

}  // namespace syscg::syscall_table
