// A group's policy as systemd unit-file lines (the [Service] section's
// seccomp options, systemd.exec(5)). Pure.
//
// to_systemd(allowed, errnos) gives, each line newline-terminated:
//   # syscg: denied numbers without a name (not expressible here): 335-423 ... | none
//   SystemCallArchitectures=native
//   SystemCallErrorNumber=EPERM
//   SystemCallFilter=~execve uname          (the names denied with EPERM, by number)
//   SystemCallFilter=~clone3:ENOSYS ...     (one line per other errno, ascending)
// A DENY LIST ("~"), chosen over an allow list because
//  - systemd's allow lists always let through execve, exit, exit_group,
//    getrlimit, rt_sigreturn and the calls that read time or sleep
//    ("implicitly allow-listed"), so a group that denies any of them could
//    not be written as one; a deny list denies exactly syscg's named numbers;
//  - only deny lists take a per-entry errno ("name:errno", systemd >= 247;
//    Debian 12 has 252), which DenyErrnos needs; SystemCallErrorNumber=EPERM
//    gives the rest EPERM (without it, a denied call would kill the process).
// What a deny list cannot say: numbers without a name in syscg's table
// (they stay allowed under systemd; the comment line lists the denied ones),
// and nothing of the calls systemd's own table lacks. Several
// SystemCallFilter=~ lines merge into one deny list.
// SystemCallArchitectures=native keeps i386 and x32 calls out, as syscg's
// filter does. clone3 is always denied with ENOSYS (as syscg's filter does);
// restart_syscall is never denied. As in to_oci, syscg's own mechanism (the
// clone(CLONE_PARENT) guard, the seccomp/prctl exemptions) is not exported.
#pragma once

#include "core/deny_errnos.h"
#include "core/syscall_set.h"

#include <string>

namespace syscg::formats {

std::string to_systemd(const SyscallSet& allowed, const DenyErrnos& errnos);

}  // namespace syscg::formats
