// Unit tests of a controlled restart's pure parts and the filesystem's share
// of it (fs/handover.h, fs/restart.cc, fs/service_handover.h's names,
// core/restart_protocol.h), without a mount: the fake enforcement.
#include "core/restart_protocol.h"
#include "fs/handover.h"
#include "tests/fs/filesystem_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

namespace syscg::fs {
namespace {

using unit::FilesystemTest;

Bundle sample() {
  Bundle b;
  b.members = {{2000, 20000, "/web"}, {2500, 25000, "/web/php"}};
  SyscallSet routed;
  (void)routed.set(110);
  (void)routed.set(59);
  b.routed[2000] = routed;
  b.listeners = {2000, 0};
  b.argv = {"/usr/bin/syscgfs", "/run/syscg", "-f", "-o", "state=/var/lib/syscg/state.db"};
  return b;
}

TEST(HandoverBundleTest, RoundTrips) {
  const Bundle b = sample();
  auto back = decode_bundle(encode_bundle(b));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back.value(), b);
  auto empty = decode_bundle(encode_bundle(Bundle{}));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty.value(), Bundle{});
}

TEST(HandoverBundleTest, AnythingElseIsRefusedWithWhatWasWrong) {
  const std::string good = encode_bundle(sample());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad{
      "",
      "[]",
      "{",
      replaced("\"version\":1", "\"version\":2"),                            // a layout we do not know
      replaced("\"pid\":2000,\"start_time\"", "\"pid\":-1,\"start_time\""),  // a pid
      replaced("\"numbers\":[59,110]", "\"numbers\":[59,4096]"),             // out of range
      replaced("\"listeners\":[2000,0]", "\"listeners\":\"2000\""),
      replaced("\"group\":\"/web\"", "\"group\":7"),
  };
  for (const auto& text : bad) {
    SCOPED_TRACE(text);
    auto r = decode_bundle(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid);
    EXPECT_NE(r.error().message.find("hand-over bundle"), std::string::npos) << r.error().message;
  }
}

TEST(RestartProtocolTest, TheSocketIsAbstractAndFitsSockaddrUn) {
  const std::string name = restart_socket_name("/run/syscg");
  EXPECT_EQ(name, std::string("\0syscgfs-restart:/run/syscg", 27));
  const std::string long_path(300, 'x');
  const std::string hashed = restart_socket_name("/" + long_path);
  EXPECT_LE(hashed.size(), 107u);
  EXPECT_EQ(hashed[0], '\0');
  EXPECT_NE(hashed, restart_socket_name("/y" + long_path)) << "distinct paths, distinct names";
}

TEST_F(FilesystemTest, FrozenEveryMutationFailsWithEagainAndChangesNothing) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_TRUE(fs_.freeze());
  EXPECT_EQ(write(web, "syscalls.deny", "execve"), EAGAIN);
  EXPECT_EQ(write(web, "syscalls.allow", "execve"), EAGAIN);
  EXPECT_EQ(write(web, "cgroup.procs", "2000"), EAGAIN);
  EXPECT_EQ(write(web, "syscalls.mode", "complain"), EAGAIN);
  EXPECT_EQ(write(web, "cgroup.max.depth", "3"), EAGAIN);
  auto made = fs_.mkdir(kRootInode, "other", 0755, unit::kRoot);
  ASSERT_FALSE(made);
  EXPECT_EQ(to_errno(made.error().code), EAGAIN);
  auto removed = fs_.rmdir(kRootInode, "web");
  ASSERT_FALSE(removed);
  EXPECT_EQ(to_errno(removed.error().code), EAGAIN);
  EXPECT_TRUE(fake_.attaches.empty());
  EXPECT_EQ(read(web, "syscalls.deny"), "\n");  // reads are served: nothing denied
  fs_.thaw();                                   // the successor failed: writes go through again
  EXPECT_EQ(write(web, "syscalls.deny", "execve"), 0);
  EXPECT_EQ(write(web, "cgroup.procs", "2000"), 0);
}

TEST_F(FilesystemTest, MembersNowNamesEveryMemberWithItsStartTimeAndGroupPath) {
  const auto web = mkdir(kRootInode, "web");
  const auto php = mkdir(web, "php");
  ASSERT_EQ(write(php, "cgroup.procs", "2000"), 0);
  fs_.forked(2000, 2500);  // a child that joined by forking: no saved start time
  auto members = fs_.members_now();
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  EXPECT_EQ(members, (std::vector<HandedMember>{{2000, 20000, "/web/php"}, {2500, 25000, "/web/php"}}));
}

TEST_F(FilesystemTest, AdoptHandedTakesTheMembersTheStateLacks) {
  const auto web = mkdir(kRootInode, "web");
  auto joined = fs_.adopt_handed({{2500, 25000, "/web"},   // a forked child: joins
                                  {3000, 30000, "/gone"},  // its group is gone: stays out
                                  {4000, 40000, "/"}});    // the root is no group to join
  ASSERT_TRUE(joined) << joined.error().message;
  EXPECT_EQ(joined.value(), 1u);
  EXPECT_EQ(read(web, "cgroup.procs"), "2500\n");
  EXPECT_TRUE(fake_.adopted.contains(2500));
  EXPECT_FALSE(hierarchy_.group_of(3000));
  EXPECT_FALSE(hierarchy_.group_of(4000));
}

}  // namespace
}  // namespace syscg::fs
