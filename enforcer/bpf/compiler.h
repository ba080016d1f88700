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
//     ALLOW (member) or ERRNO(the number's errno, EPERM unless the group
//     said otherwise) (non-member), or USER_NOTIF for the
//     non-members in `notify` (routed to a supervisor), except the leaves of
//     the numbers below, which are runs of their own. Numbers without a name
//     in syscg's table are compiled as the set says too: they may be calls
//     of a kernel newer than that table.
//
// ARGUMENT CHECKS. Every path loads only `arch` and `nr`, so the kernel's
// constant-action cache (Linux >= 5.11) caches every allowed call and the
// filter then costs nothing for it, with ONE allowed exception, clone (the
// guard below); the other argument checks sit on paths of denied numbers
// (and on 317 in a supervised filter):
//  - clone (56) ALLOWED: clone(flags) with CLONE_PARENT (0x8000) set returns
//    ERRNO(EPERM), every other clone is allowed. syscg learns membership from
//    the kernel's fork events, which report such a child as the child of its
//    creator's parent: it would escape its group, so members cannot create
//    one. A ROUTED clone gets the same guard in front of USER_NOTIF (the
//    supervisor answers by number alone, so CONTINUE would let the flag
//    through); a denied, unrouted clone is plain ERRNO(EPERM).
//  - clone3 (435) returns ERRNO(ENOSYS) in every filter, whatever the sets
//    say: its flags lie in user memory, which BPF cannot read, so the guard
//    above is impossible there; glibc falls back to clone on ENOSYS (as under
//    Docker's default profile).
//  - seccomp (317) denied: seccomp(SECCOMP_SET_MODE_FILTER, ...), i.e. op ==
//    1, is allowed;
//  - prctl (157) denied: exactly prctl(PR_SET_NO_NEW_PRIVS, 1, ...), i.e.
//    option == 38 and arg2 == 1, is allowed;
//  every other use of those two calls returns ERRNO(EPERM) (USER_NOTIF when
//  the number is in `notify`). A SUPERVISED filter (`notify` not empty)
//  also denies seccomp(SET_MODE_FILTER) with SECCOMP_FILTER_FLAG_NEW_LISTENER
//  (flags bit 3), whether 317 is allowed or not: a chain holds one
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
// ARGUMENT WIDTHS. Each comparison reads exactly the bits the kernel reads:
// the syscall entry truncates a register to the declared parameter type, so
// bits the kernel drops must not change a verdict (else garbage high bits
// would slip a call past a guard whose other branch allows it) and bits it
// keeps must all be compared (else a different value would pass as the
// exempt one). seccomp_data.args[i] holds the full 64-bit register.
//   call     argument                 kernel type        words compared
//   seccomp  args[0] op               unsigned int       low only
//   seccomp  args[1] flags            unsigned int       low only (jset bit 3)
//   prctl    args[0] option           int                low only
//   prctl    args[1] arg2             unsigned long      low and high
//   clone    args[0] clone_flags      unsigned long,     low only (jset 0x8000)
//                                     used as lower_32_bits(clone_flags)
//
// Size: at most 8 + 2 * 512 + 16 instructions plus a few trampolines, far
// below kMaxInstructions; the worst case is alternating verdicts. A group
// that allows everything gets 20 (the clone guard and clone3 alone).
#pragma once

#include "core/error.h"
#include "core/deny_errnos.h"
#include "core/syscall_set.h"
#include "enforcer/bpf/program.h"

namespace syscg::bpf {

// Numbers whose paths carry the argument checks above (x86_64).
inline constexpr unsigned kSeccompNr = 317;
inline constexpr unsigned kPrctlNr = 157;
inline constexpr unsigned kCloneNr = 56;
inline constexpr unsigned kClone3Nr = 435;
inline constexpr std::uint32_t kCloneParent = 0x00008000;    // CLONE_PARENT
inline constexpr std::uint32_t kSeccompSetModeFilter = 1;    // SECCOMP_SET_MODE_FILTER
inline constexpr std::uint32_t kPrSetNoNewPrivs = 38;        // PR_SET_NO_NEW_PRIVS
inline constexpr std::uint32_t kSeccompFlagNewListener = 8;  // SECCOMP_FILTER_FLAG_NEW_LISTENER

// The filter for a group whose members may make exactly the calls in
// `allowed` (compiled as given: keeping kRestartSyscall in it, and dropping
// io_uring where it would bypass the set, see core/io_uring_table.h, is the
// model's job), with the fixed shape above, clone guard included. Numbers
// outside `allowed` that are in `notify` return USER_NOTIF (the kernel asks
// the filter's listener) instead of ERRNO(EPERM); `notify` is ignored where
// `allowed` holds the number. Fails only if the assembler
// rejects the program, which the fixed shape rules out.
// Denied numbers return ERRNO(errnos.of(nr)) (clamped to MAX_ERRNO, as the
// kernel would); the guards' own denials (CLONE_PARENT, NEW_LISTENER) and
// the foreign-arch and x32 paths stay EPERM, clone3 ENOSYS.
Result<Program> compile(const SyscallSet& allowed, const SyscallSet& notify = {}, const DenyErrnos& errnos = {});

}  // namespace syscg::bpf
