// The seccomp filter of a group: compiles an allowed SyscallSet into a
// classic BPF program. Pure: no system calls, deterministic output.
//
// Every program has this FIXED SHAPE:
//  1. ld arch. Any architecture other than AUDIT_ARCH_X86_64 returns
//     ERRNO(EPERM): an x86_64 process can make i386 calls through `int 0x80`,
//     whose numbers differ, and without this check any deny list is bypassed.
//  2. ld nr. The x32 bit (0x40000000) set returns ERRNO(EPERM): x32 calls
//     (nr | 0x40000000) reach the native handlers under numbers the table
//     below does not see, another bypass.
//  3. nr >= kSyscallWidth (512) returns ERRNO(ENOSYS), what the kernel says
//     for an unknown number, so that libc's probes for newer calls fall back.
//  4. A balanced binary search over the runs of equal verdict of 0..511: jge
//     on the first number of a run, never jeq chains; every leaf returns
//     ALLOW (member) or ERRNO(EPERM) (non-member), or USER_NOTIF for the
//     non-members in `notify` (routed to a supervisor). Numbers without a name
//     in syscg's table are compiled as the set says too: they may be calls
//     of a kernel newer than that table.
//
// Every path loads only `arch` and `nr`, so the kernel's constant-action
// cache (Linux >= 5.11) caches every allowed call and the filter then costs
// nothing for it. ONE exception, and only on paths of denied numbers:
//  - seccomp (317) denied: exactly seccomp(SECCOMP_SET_MODE_FILTER, ...), i.e.
//    args[0] == 1 (low 32 bits 1, high 32 bits 0), is allowed;
//  - prctl (157) denied: exactly prctl(PR_SET_NO_NEW_PRIVS, 1, ...), i.e.
//    args[0] == 38 and args[1] == 1 (both halves of each checked), is allowed;
//  every other use of those two calls returns ERRNO(EPERM) (USER_NOTIF when
//  the number is in `notify`). A SUPERVISED filter (`notify` not empty)
//  also denies seccomp(SET_MODE_FILTER) with SECCOMP_FILTER_FLAG_NEW_LISTENER
//  (args[1] bit 3), whether 317 is allowed or not: a chain holds one
//  listener, ours, so while the supervisor lives the kernel says EBUSY
//  anyway; once it is gone, a listener of the member's own would win the
//  tie between equal USER_NOTIF verdicts (the newest filter's does) and
//  could let routed calls through, instead of the kernel's ENOSYS. Both calls can
//  only restrict their caller (the kernel runs every attached filter and the
//  most restrictive verdict wins, so a new filter never loosens an older
//  one), and syscg tightens a running group by injecting exactly these two
//  calls into its members, which must keep working in a group that denies
//  them. Residual risk: a member can stack filters until the kernel's
//  per-task instruction budget is spent, so that a later tightening fails
//  (it cannot loosen anything).
//
// Size: at most 8 + 2 * 512 + 14 instructions plus a few trampolines, far
// below kMaxInstructions; the worst case is alternating verdicts.
#pragma once

#include "core/error.h"
#include "core/syscall_set.h"
#include "enforcer/bpf/program.h"

namespace syscg::bpf {

// Numbers whose denied paths carry the exemption above (x86_64).
inline constexpr unsigned kSeccompNr = 317;
inline constexpr unsigned kPrctlNr = 157;
inline constexpr std::uint32_t kSeccompSetModeFilter = 1;  // SECCOMP_SET_MODE_FILTER
inline constexpr std::uint32_t kPrSetNoNewPrivs = 38;      // PR_SET_NO_NEW_PRIVS
inline constexpr std::uint32_t kSeccompFlagNewListener = 8;  // SECCOMP_FILTER_FLAG_NEW_LISTENER

// False when `allowed` allows every number: such a group gets no filter at
// all (zero overhead).
bool needs_filter(const SyscallSet& allowed);

// The filter for a group whose members may make exactly the calls in
// `allowed` (compiled as given: keeping kRestartSyscall in it is the model's
// job). Numbers outside `allowed` that are in `notify` return USER_NOTIF
// (the kernel asks the filter's listener) instead of ERRNO(EPERM); `notify`
// is ignored where `allowed` holds the number. Fails only if the assembler
// rejects the program, which the fixed shape rules out.
Result<Program> compile(const SyscallSet& allowed, const SyscallSet& notify = {});

}  // namespace syscg::bpf
