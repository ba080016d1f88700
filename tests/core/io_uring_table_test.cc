#include "core/io_uring_table.h"

#include "core/syscall_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

namespace syscg {
namespace {

SyscallSet make(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) EXPECT_TRUE(s.set(nr).has_value());
  return s;
}
SyscallSet all_but(std::initializer_list<unsigned> nrs) {
  SyscallSet s = SyscallSet::all();
  for (unsigned nr : nrs) EXPECT_TRUE(s.reset(nr).has_value());
  return s;
}

const IoUringOp* find(std::string_view name) {
  const auto it =
      std::find_if(kIoUringOps.begin(), kIoUringOps.end(), [&](const IoUringOp& op) { return op.name == name; });
  return it == kIoUringOps.end() ? nullptr : &*it;
}

TEST(IoUringTable, OpcodesStrictlyIncreasingUniqueAndNamed) {
  ASSERT_FALSE(kIoUringOps.empty());
  EXPECT_EQ(kIoUringOps.front().opcode, 0U);  // IORING_OP_NOP
  EXPECT_EQ(kIoUringOps.front().name, "NOP");
  EXPECT_EQ(kIoUringOps.back().opcode, 64U);  // IORING_OP_URING_CMD128, Linux 6.18
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kIoUringOps.size(); ++i) {
    const auto& op = kIoUringOps[i];
    SCOPED_TRACE(std::string(op.name));
    if (i > 0) {
      EXPECT_LT(kIoUringOps[i - 1].opcode, op.opcode);
    }
    EXPECT_EQ(op.opcode, i);  // the kernel's enum is dense
    EXPECT_FALSE(op.name.empty());
    EXPECT_TRUE(names.insert(op.name).second) << "duplicate name";
  }
}

TEST(IoUringTable, EveryNumberIsANamedNativeCall) {
  for (const auto& op : kIoUringOps) {
    SCOPED_TRACE(std::string(op.name));
    EXPECT_LE(op.numbers().size(), IoUringOp::kMaxNumbers);
    std::set<unsigned> seen;
    for (unsigned nr : op.numbers()) {
      EXPECT_LT(nr, kSyscallWidth);
      EXPECT_TRUE(syscall_table::name(nr).has_value()) << nr << " has no name";
      EXPECT_TRUE(seen.insert(nr).second) << nr << " listed twice";
      EXPECT_FALSE(io_uring_calls().test(nr)) << "a ring cannot perform an io_uring call";
    }
  }
}

TEST(IoUringTable, KnownOpcodesPerformTheirCalls) {
  struct Expect {
    std::string_view op;
    std::initializer_list<std::string_view> calls;
  };
  for (const auto& [op, calls] : {
           Expect{"NOP", {}},
           Expect{"READV", {"readv", "preadv", "preadv2"}},
           Expect{"READ", {"read", "pread64", "preadv2"}},
           Expect{"WRITE", {"write", "pwrite64", "pwritev2"}},
           Expect{"OPENAT", {"openat"}},
           Expect{"OPENAT2", {"openat2"}},
           Expect{"SOCKET", {"socket"}},
           Expect{"CONNECT", {"connect"}},
           Expect{"SENDMSG", {"sendmsg"}},
           Expect{"SEND", {"sendto"}},
           Expect{"ACCEPT", {"accept", "accept4"}},
           Expect{"CLOSE", {"close"}},
           Expect{"STATX", {"statx"}},
           Expect{"UNLINKAT", {"unlinkat"}},
           Expect{"RENAMEAT", {"renameat2"}},
           Expect{"SETXATTR", {"setxattr"}},
           Expect{"FGETXATTR", {"fgetxattr"}},
           Expect{"WAITID", {"waitid"}},
           Expect{"FUTEX_WAITV", {"futex_waitv"}},
           Expect{"TIMEOUT", {}},
           Expect{"BIND", {"bind"}},
           Expect{"LISTEN", {"listen"}},
           Expect{"PIPE", {"pipe2"}},
       }) {
    SCOPED_TRACE(std::string(op));
    const IoUringOp* entry = find(op);
    ASSERT_NE(entry, nullptr);
    ASSERT_EQ(entry->numbers().size(), calls.size());
    std::size_t i = 0;
    for (std::string_view call : calls) EXPECT_EQ(syscall_table::name(entry->numbers()[i++]), call);
  }
}

TEST(IoUringTable, PerformableIsTheUnionOfTheTable) {
  SyscallSet want;
  for (const auto& op : kIoUringOps)
    for (unsigned nr : op.numbers()) ASSERT_TRUE(want.set(nr).has_value());
  EXPECT_EQ(io_uring_performable(), want);
  for (unsigned nr : {0U, 1U, 3U, 257U, 437U, 41U, 42U, 202U, 449U}) EXPECT_TRUE(io_uring_performable().test(nr)) << nr;
  for (unsigned nr :
       {59U, 63U, 56U, 62U, kIoUringSetup, kIoUringEnter, kIoUringRegister})  // execve, uname, clone, kill
    EXPECT_FALSE(io_uring_performable().test(nr)) << nr;
}

TEST(IoUringTable, IoUringCalls) {
  EXPECT_EQ(io_uring_calls(), make({425, 426, 427}));
  EXPECT_EQ(syscall_table::name(kIoUringSetup), "io_uring_setup");
  EXPECT_EQ(syscall_table::name(kIoUringEnter), "io_uring_enter");
  EXPECT_EQ(syscall_table::name(kIoUringRegister), "io_uring_register");
}

TEST(IoUringTable, EnforcedAllowsEverythingWhenEverythingIsAllowed) {
  EXPECT_TRUE(io_uring_blockers(SyscallSet::all()).empty());
  EXPECT_EQ(enforced(SyscallSet::all()), SyscallSet::all());
}

TEST(IoUringTable, DenyingACallNoRingPerformsKeepsIoUring) {
  const auto no_uname = all_but({63});
  EXPECT_TRUE(io_uring_blockers(no_uname).empty());
  EXPECT_EQ(enforced(no_uname), no_uname);
}

TEST(IoUringTable, DenyingACallARingPerformsDropsIoUring) {
  const auto no_openat = all_but({257});
  EXPECT_EQ(io_uring_blockers(no_openat), make({257}));
  EXPECT_EQ(enforced(no_openat), all_but({257, 425, 426, 427}));
}

TEST(IoUringTable, DenyingIoUringSetupAloneStaysAsIs) {
  const auto no_setup = all_but({kIoUringSetup});
  EXPECT_TRUE(io_uring_blockers(no_setup).empty());
  EXPECT_EQ(enforced(no_setup), no_setup);
}

TEST(IoUringTable, EnforcedIsASubsetAndIdempotent) {
  const SyscallSet cases[] = {SyscallSet::none(),
                              SyscallSet::all(),
                              all_but({63}),
                              all_but({257}),
                              all_but({202, 425}),
                              make({0, 1, 425, 426, 427}),
                              io_uring_performable() | io_uring_calls(),
                              io_uring_calls()};
  for (const auto& s : cases) {
    const SyscallSet e = enforced(s);
    EXPECT_TRUE(e.is_subset_of(s));
    EXPECT_EQ(enforced(e), e);
    EXPECT_EQ(io_uring_blockers(e), io_uring_blockers(s));
    // io_uring stays as the set says when no blocker exists, else it is gone
    EXPECT_EQ(e & io_uring_calls(), io_uring_blockers(s).empty() ? s & io_uring_calls() : SyscallSet::none());
    EXPECT_EQ(e & ~io_uring_calls(), s & ~io_uring_calls());  // nothing else changes
  }
  // Performable calls allowed, io_uring kept; one of them denied, io_uring gone.
  const auto ring_only = io_uring_performable() | io_uring_calls();
  EXPECT_EQ(enforced(ring_only), ring_only);
  auto minus_read = ring_only;
  ASSERT_TRUE(minus_read.reset(0).has_value());
  EXPECT_EQ(enforced(minus_read), io_uring_performable().subtract(make({0})));
  EXPECT_EQ(enforced(SyscallSet::none()), SyscallSet::none());
}

}  // namespace
}  // namespace syscg
