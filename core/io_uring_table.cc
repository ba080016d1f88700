#include "core/io_uring_table.h"

namespace syscg {
namespace {

// The table's facts that the functions below rely on, checked where the
// table is compiled.
constexpr bool dense_and_ordered() {
  for (std::size_t i = 0; i < kIoUringOps.size(); ++i)
    if (kIoUringOps[i].opcode != i) return false;
  return true;
}
static_assert(dense_and_ordered(), "kIoUringOps: opcode i at index i, as the kernel's enum io_uring_op");

constexpr bool in_range() {
  for (const auto& op : kIoUringOps)
    for (unsigned nr : op.numbers())
      if (nr >= kSyscallWidth) return false;
  return true;
}
static_assert(in_range(), "kIoUringOps: every number below kSyscallWidth");

// No opcode performs an io_uring call itself (a ring cannot set up another
// ring), so dropping 425-427 does not change the blockers: enforced() is
// idempotent.
constexpr bool performs_no_io_uring_call() {
  for (const auto& op : kIoUringOps)
    for (unsigned nr : op.numbers())
      if (nr >= kIoUringSetup && nr <= kIoUringRegister) return false;
  return true;
}
static_assert(performs_no_io_uring_call());

}  // namespace

SyscallSet io_uring_performable() {
  SyscallSet s;
  for (const auto& op : kIoUringOps)
    for (unsigned nr : op.numbers()) (void)s.set(nr);  // in range: checked above
  return s;
}

SyscallSet io_uring_calls() {
  SyscallSet s;
  (void)s.set_range(kIoUringSetup, kIoUringRegister);  // contiguous, in range
  return s;
}

SyscallSet io_uring_blockers(const SyscallSet& allowed) { return io_uring_performable().subtract(allowed); }

// Without io_uring_setup no new ring exists. io_uring_enter and
// io_uring_register go too: a member may hold a ring fd created before the
// group tightened, or receive one over a socket (SCM_RIGHTS), and submitting
// to it (or, with SQPOLL, just writing the shared queue) would still run
// denied operations; without io_uring_enter a non-SQPOLL ring submits
// nothing. SQPOLL rings that already exist are beyond any filter: the kernel
// thread polls without a system call.
SyscallSet enforced(const SyscallSet& allowed) {
  if (io_uring_blockers(allowed).empty()) return allowed;
  SyscallSet s = allowed;
  return s.subtract(io_uring_calls());
}

}  // namespace syscg
