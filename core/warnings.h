// syscalls.warnings: the ways a group's policy is weaker than it reads.
// Pure: the caller gathers what it knows of the group and its members.
//
// One line per warning, "TAG SUBJECT FIX", in this order of tags (stable,
// documented in the README):
//  - vdso NUMBERS: denied numbers the vDSO serves in user space
//    (gettimeofday 96, time 201, clock_gettime 228, getcpu 309): only
//    direct system calls are denied.
//  - io_uring NUMBERS: the group denies NUMBERS, which io_uring operations
//    can perform, so io_uring_setup/enter/register (425-427) are denied to
//    members as a consequence (core/io_uring_table.h).
//  - stricter PIDS: members that cannot use numbers the group allows (see
//    syscalls.stricter).
//  - subvert PIDS: members holding CAP_SYS_PTRACE in a group that allows
//    ptrace, process_vm_writev or pidfd_getfd: they could take the
//    supervisor's listener or rewrite other members.
//  - killed PIDS: members killed because they could not be given the
//    group's policy.
// NUMBERS is a range token ("96,201,228"), PIDS a comma-separated list in
// ascending order. Empty when there is nothing to say.
#pragma once

#include "core/ids.h"
#include "core/syscall_set.h"

#include <string>
#include <vector>

namespace syscg::warnings {

struct Inputs {
  SyscallSet allowed;               // the group's set as written
  std::vector<Pid> stricter;        // members listed in syscalls.stricter
  std::vector<Pid> ptrace_capable;  // members with CAP_SYS_PTRACE
  std::vector<Pid> killed;
};

SyscallSet vdso_numbers();
// The numbers through which a CAP_SYS_PTRACE member can reach the daemon's
// listener or another member: ptrace 101, process_vm_writev 311, pidfd_getfd 438.
SyscallSet subversion_numbers();

std::string render(const Inputs& in);

}  // namespace syscg::warnings
