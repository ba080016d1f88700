// The control-file grammar: pure functions from the bytes of one write(2) to a
// typed value, and from values to the bytes a read(2) returns.
//
// syscalls.allow / syscalls.deny, one write = one command:
//   command := sep* token (sep+ token)* sep*        sep := whitespace | ','
//   token   := numbers [':' errno]          (':' errno in syscalls.deny only)
//   numbers := value | bound '-' bound | 'a' | 'all' | '@' set-name
//   errno   := an errno name as glibc names it ("ENOSYS") | 1..4095 in
//              decimal, but not the kernel-internal 512..529 (ERESTARTSYS...)
//   value   := C integer as kstrtoint(s, 0) reads it ("59", "0x3b", "073",
//              "+59") | a native syscall name ("execve")
//   bound   := a value without a sign ("0x3a-073", "read-close"): a signed
//              endpoint ("-1-3", "1-+3") is malformed
// A comma stands between two tokens: "1,,2", ",1" and "1," are malformed.
// Set names are systemd's (core/syscall_groups.h): "@mount". A deny's
// numbers return the token's errno (EPERM without one); one number given
// two different errnos in one write is invalid.
// Errors, all-or-nothing (the first bad token decides):
//   more than kMaxWrite bytes -> too_big (E2BIG), checked before anything else;
//   empty / whitespace-only write, malformed token, unknown name or set,
//   range with first > last, an errno in an allow, an unknown errno ->
//   invalid (EINVAL);
//   a number < 0 or >= kSyscallWidth (or beyond int) -> out_of_range (ERANGE);
//   for a deny, naming restart_syscall explicitly -> invalid (EINVAL); ranges
//   and 'a' skip it silently (it is always allowed, see syscall_set.h).
// Reads: members ascending, single spaces, newline-terminated; empty -> "\n";
// syscalls.deny writes "NR:ERRNO" for a number whose errno is not EPERM
// ("59 435:ENOSYS\n"), which reads back as the same policy when written.
//
// cgroup.max.depth / cgroup.max.descendants: "max" or an integer >= 0 as
// kstrtoint reads it, surrounding whitespace ignored; negative -> ERANGE.
#pragma once

#include "core/deny_errnos.h"
#include "core/error.h"
#include "core/syscall_set.h"

#include <climits>
#include <cstddef>
#include <string>
#include <string_view>

namespace syscg::grammar {

inline constexpr std::size_t kMaxWrite = 4096;  // kernfs atomic_write_len
inline constexpr int kUnlimited = INT_MAX;      // reads back as "max", as in the kernel

enum class ListFile { allow, deny };

// One write's numbers, and (deny) the errno of each.
struct ListWrite {
  SyscallSet numbers;
  DenyErrnos errnos;
};
Result<ListWrite> parse_list_write(std::string_view text, ListFile file);
// The numbers alone.
Result<SyscallSet> parse_syscall_list(std::string_view text, ListFile file);
std::string format_syscall_list(const SyscallSet& set);
// syscalls.deny: `denied` with the errnos that are not EPERM.
std::string format_deny_list(const SyscallSet& denied, const DenyErrnos& errnos);
// One token, no newline: runs as ranges joined by commas ("59,62-64"), a
// form parse_syscall_list reads back; "" for the empty set.
std::string format_syscall_ranges(const SyscallSet& set);

// syscalls.mode: "enforce" or "complain", surrounding whitespace ignored;
// anything else invalid. True for complain.
Result<bool> parse_mode(std::string_view text);
std::string format_mode(bool complain);

Result<int> parse_limit(std::string_view text);
std::string format_limit(int limit);

// cgroup.procs: one process id per write, as the kernel reads it
// (kstrtoint(strstrip(buf), 0)); 0 names the writer. Any parse failure or a
// negative number -> invalid (EINVAL), as in cgroup_procs_write_start().
Result<int> parse_pid(std::string_view text);

// Control files present in group directories. Group names may not collide
// with them; the prefixes "cgroup." and "syscalls." are reserved as a whole so
// that a future control file can never shadow an existing group.
bool is_reserved_name(std::string_view name);
// Non-empty, at most 255 bytes, no '/', no '\n', no NUL, not "." or "..", not
// reserved. Errors: invalid (EINVAL).
Status check_group_name(std::string_view name);

}  // namespace syscg::grammar
