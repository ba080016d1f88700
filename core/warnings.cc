#include "core/warnings.h"

#include "core/grammar.h"
#include "core/io_uring_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace syscg::warnings {
namespace {

SyscallSet of(std::initializer_list<unsigned> numbers) {
  SyscallSet s;
  for (unsigned nr : numbers) (void)s.set(nr);
  return s;
}

std::string pids(std::vector<Pid> list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  std::string out;
  for (Pid p : list) fmt::format_to(std::back_inserter(out), "{}{}", out.empty() ? "" : ",", p);
  return out;
}

}  // namespace

SyscallSet vdso_numbers() { return of({96, 201, 228, 309}); }
SyscallSet subversion_numbers() { return of({101, 311, 438}); }

std::string render(const Inputs& in) {
  std::string out;
  auto line = [&](std::string_view tag, const std::string& subject, std::string_view fix) {
    fmt::format_to(std::back_inserter(out), "{} {} {}\n", tag, subject, fix);
  };
  if (auto v = vdso_numbers() & ~in.allowed; !v.empty())
    line("vdso", grammar::format_syscall_ranges(v),
         "the vDSO serves these in user space: only direct system calls are denied, and no seccomp filter can "
         "deny more; allow them again if the program relies on them");
  // Only where io_uring is off as a consequence, not where it is denied as such.
  if (auto b = io_uring_blockers(in.allowed); !b.empty() && !(io_uring_calls() & in.allowed).empty())
    line("io_uring", grammar::format_syscall_ranges(b),
         "io_uring could perform these, so io_uring_setup, io_uring_enter and io_uring_register (425-427) are "
         "denied to members; allow these numbers to give io_uring back, or deny 425-427 to say so");
  if (!in.stricter.empty())
    line("stricter", pids(in.stricter),
         "these members cannot use numbers this group allows (see syscalls.stricter); restart them in the group "
         "to give them its set");
  if (!in.ptrace_capable.empty() && !(subversion_numbers() & in.allowed).empty())
    line("subvert", pids(in.ptrace_capable),
         "these members hold CAP_SYS_PTRACE and the group allows ptrace, process_vm_writev or pidfd_getfd: they "
         "can take the daemon's listener or rewrite other members; deny 101,311,438 or drop CAP_SYS_PTRACE");
  if (!in.killed.empty())
    line("killed", pids(in.killed),
         "these members were killed: they could not be given this group's policy (the daemon's log says why)");
  return out;
}

}  // namespace syscg::warnings
