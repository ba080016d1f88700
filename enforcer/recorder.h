// The recorder behind `syscg record`: runs a command with every descendant
// and counts the system calls they make, by number.
//
// How (enforcer/ is the one component that calls ptrace and seccomp):
//  - fork. The child blocks on a pipe until the parent has PTRACE_SEIZEd it
//    with PTRACE_O_TRACESECCOMP | TRACEFORK | TRACEVFORK | TRACECLONE |
//    TRACEEXEC | EXITKILL, then sets PR_SET_NO_NEW_PRIVS and installs a
//    one-instruction filter returning SECCOMP_RET_TRACE for every call, and
//    execs the command (execvp). The filter and the NO_NEW_PRIVS bit exist
//    only in that child and its descendants, never in the calling process.
//  - The calling thread is the tracer: waitpid(-1, __WALL) until no tracee
//    is left. Each PTRACE_EVENT_SECCOMP stop is one call, read with
//    PTRACE_GET_SYSCALL_INFO (op SECCOMP: arch and number) and continued:
//    one stop per call (PTRACE_SYSCALL would stop twice, and for calls
//    seccomp never sees too). Forks, vforks, clones (threads) are attached
//    by the kernel before their first instruction, and inherit the filter;
//    signals are re-injected; group-stops (seized tracees) are left stopped
//    with PTRACE_LISTEN, as ptrace(2) prescribes, until SIGCONT.
//  - What counts: calls made after the filter went in. The child's own
//    calls before its exec are not the command's: the failed execve
//    attempts of execvp's PATH search and whatever runs after a failed exec
//    are not counted; the exec that succeeds counts as one execve.
//  - Native calls (AUDIT_ARCH_X86_64, the x32 bit clear) below
//    kSyscallWidth are counted per number; native numbers >= kSyscallWidth
//    (no such call: the kernel says ENOSYS) per number apart; x32 calls and
//    i386 calls (int 0x80) in two totals. A syscg group's filter refuses
//    all three kinds whatever its policy (enforcer/bpf/compiler.h).
//  - Not seen: calls answered in user space by the vDSO (clock_gettime,
//    gettimeofday, time, getcpu) never enter the kernel; calls a filter of
//    the command's own refuses (a KILL/TRAP/ERRNO/USER_NOTIF verdict
//    outranks TRACE) never run and are not counted.
//  - The recording ends when the last tracee has ended: a command that
//    leaves a daemon behind is recorded until the daemon ends (strace -f
//    does the same). If the calling process dies, EXITKILL kills every
//    tracee.
//  - While recording, the calling process ignores SIGINT and SIGQUIT (as
//    system(3) does): a Ctrl-C reaches the command, whose end ends the
//    recording, and the report is still made. The child keeps the caller's
//    dispositions.
//  - NO_NEW_PRIVS: set-user-ID and file-capability programs run without
//    their privileges, exactly as in a syscg group.
//  - A tracee cannot be traced by anyone else (gdb, strace, PTRACE_TRACEME
//    fail with EPERM).
//
// The caller's contract: call from one thread, with no other child of the
// process being waited for meanwhile (waitpid(-1) reaps any child; the
// syscg CLI has none), and SIGCHLD not set to SIG_IGN (the command's exit
// status would be lost to the kernel's auto-reaping). Not reentrant.
#pragma once

#include "core/error.h"
#include "core/syscall_set.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace syscg::enforcer {

struct Recording {
  // Native calls below kSyscallWidth, counted per number.
  std::array<std::uint64_t, kSyscallWidth> counts{};
  // Native numbers >= kSyscallWidth (as the kernel saw them, 64 bits).
  std::map<std::uint64_t, std::uint64_t> beyond;
  std::uint64_t x32 = 0;    // AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT
  std::uint64_t i386 = 0;   // AUDIT_ARCH_I386: int 0x80 (or sysenter)
  std::uint64_t other = 0;  // any other arch (none on x86_64 today)
  // The command's own process's wait status (waitpid's), and as a shell
  // reports it: its exit code, or 128 + the signal that killed it.
  int wait_status = 0;
  int exit_status() const;

  // The native numbers below kSyscallWidth seen at least once.
  SyscallSet seen() const;
  std::uint64_t total() const;  // every call counted, of every kind
};

// Runs argv (argv[0] looked up in PATH as execvp does) and records it.
// Errors: argv empty -> invalid; the command cannot be run (execvp failed)
// -> not_found (ENOENT) or permission/io..., with the errno and
// "cannot run ARGV0"; the tracing itself failed (fork, ptrace: e.g. no
// ptrace rights under Yama, or PTRACE_GET_SYSCALL_INFO missing before
// Linux 5.3) -> the sys_error of the failing call. On a tracing error every
// tracee is killed (EXITKILL, then SIGKILL and reaped) before returning.
Result<Recording> record(const std::vector<std::string>& argv);

}  // namespace syscg::enforcer
