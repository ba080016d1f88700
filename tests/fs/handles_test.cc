// Unit tests of the open-file table (fs/handles.h): snapshots and waiters.
#include "fs/handles.h"

#include <gtest/gtest.h>

#include <array>

namespace syscg::fs {
namespace {

class CountingWaiter final : public PollWaiter {
 public:
  CountingWaiter(int& notified, int& released) : notified_(notified), released_(released) {}
  ~CountingWaiter() override { ++released_; }
  void notify() override { ++notified_; }

 private:
  int& notified_;
  int& released_;
};

std::shared_ptr<Handle> events_of(GroupId group) {
  return std::make_shared<Handle>(inode_of(group, FileKind::events), FileKind::events, 0, Caller{});
}

TEST(FilesystemHandles, WakeNotifiesTheChangedGroupsWaitersOnce) {
  HandleTable table;
  int notified = 0, released = 0;
  const auto a = table.add(events_of(2)), b = table.add(events_of(3));
  table.keep_waiter(a, std::make_unique<CountingWaiter>(notified, released));
  table.keep_waiter(b, std::make_unique<CountingWaiter>(notified, released));
  const std::array<GroupId, 1> changed{2};
  table.wake(changed);
  EXPECT_EQ(notified, 1);
  EXPECT_EQ(released, 1);
  table.wake(changed);  // a waiter is notified once
  EXPECT_EQ(notified, 1);
  table.release(b);  // its waiter goes with it
  EXPECT_EQ(released, 2);
  EXPECT_EQ(notified, 1);
  EXPECT_FALSE(table.find(b));
  EXPECT_TRUE(table.find(a));
}

TEST(FilesystemHandles, ANewWaiterReplacesTheOldOne) {
  HandleTable table;
  int notified = 0, released = 0;
  const auto a = table.add(events_of(2));
  table.keep_waiter(a, std::make_unique<CountingWaiter>(notified, released));
  table.keep_waiter(a, std::make_unique<CountingWaiter>(notified, released));
  EXPECT_EQ(released, 1);
  table.keep_waiter(a + 100, std::make_unique<CountingWaiter>(notified, released));  // stale id
  EXPECT_EQ(released, 2);
  EXPECT_EQ(notified, 0);
}

TEST(FilesystemHandles, ReadsServeASnapshotUntilOffsetZero) {
  auto h = events_of(2);
  int taken = 0;
  const auto take = [&]() -> Result<Snapshot> { return Snapshot{"text " + std::to_string(++taken), 7}; };
  EXPECT_EQ(read_snapshot(*h, 2, 3, take).value(), "xt ");
  EXPECT_EQ(read_snapshot(*h, 5, 10, take).value(), "1");
  EXPECT_EQ(read_snapshot(*h, 100, 10, take).value(), "");
  EXPECT_EQ(read_snapshot(*h, 0, 10, take).value(), "text 2");
  EXPECT_EQ(poll_mask(*h, 7) & POLLPRI, 0u);
  EXPECT_NE(poll_mask(*h, 8) & POLLPRI, 0u);
  EXPECT_NE(poll_mask(*h, std::nullopt) & POLLPRI, 0u) << "the group was removed";
}

}  // namespace
}  // namespace syscg::fs
