// Integration tests of issue 12 through a real mount: named sets in writes,
// the export files (syscalls.bpf under a real bubblewrap, syscalls.systemd,
// syscalls.oci's shape; crun runs syscalls.oci in consumers_test.cc), and
// complain mode (syscalls.mode) with real members and the real kernel.
#include "tests/support/loosening_fixture.h"

#include "core/grammar.h"
#include "core/syscall_groups.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace syscg::test {
namespace {

constexpr const char* kBwrap = "/usr/bin/bwrap";

TEST_F(EnforcerTest, NamedSetsDenyTheirNumbersAndReadBackAsNumbers) {
  mkgroup("g");
  ASSERT_EQ(deny("g", "@mount:EPERM @reboot"), 0);
  const std::string text = read_file(path("g/syscalls.deny"));
  EXPECT_EQ(text.find('@'), std::string::npos) << "cat never prints sets";
  auto expected = syscall_groups::lookup("@mount").value() | syscall_groups::lookup("@reboot").value();
  EXPECT_EQ(text, grammar::format_syscall_list(expected));
  EXPECT_EQ(deny("g", "@no-such-set"), EINVAL);
  ASSERT_EQ(allow("g", "@reboot"), 0);
  EXPECT_EQ(read_file(path("g/syscalls.deny")), grammar::format_syscall_list(syscall_groups::lookup("@mount").value()));
}

// `bwrap --seccomp 3 3<g/syscalls.bpf CMD`: CMD runs under the group's
// policy, errnos included, without being a member.
TEST_F(EnforcerTest, BwrapRunsAProgramUnderAGroupsSyscallsBpf) {
  if (!std::filesystem::exists(kBwrap)) GTEST_SKIP() << kBwrap << " (bubblewrap) is not installed";
  mkgroup("g");
  // (execve stays allowed: bwrap installs the filter before it execs CMD.)
  ASSERT_EQ(deny("g", "getppid:EACCES uname:ENOSYS"), 0);
  const std::string bwrap = std::string(kBwrap) + " --ro-bind / / --dev /dev --proc /proc --seccomp 3 ";
  auto r = sh("timeout 60 " + bwrap + victim_binary() + " probe getppid uname execve 3<g/syscalls.bpf");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "getppid EACCES\nuname ENOSYS\nexecve ENOENT\n");
  // Without the filter, the same command is unconfined (bwrap's own setup works).
  r = sh("timeout 60 " + std::string(kBwrap) + " --ro-bind / / --dev /dev --proc /proc " + victim_binary() +
         " probe getppid");
  EXPECT_EQ(r.output, "getppid ok\n");
  EXPECT_TRUE(members("g").empty());
}

TEST_F(EnforcerTest, SyscallsBpfIsWholeInstructions) {
  mkgroup("g");
  ASSERT_EQ(deny("g", "59"), 0);
  const std::string bytes = read_file(path("g/syscalls.bpf"));
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.size() % 8, 0u);
  EXPECT_EQ(sh("echo x > g/syscalls.bpf 2>/dev/null").status == 0, false);
}

TEST_F(EnforcerTest, SyscallsSystemdAndOciSayThePolicy) {
  mkgroup("g");
  ASSERT_EQ(deny("g", "getppid:EACCES uname"), 0);
  const std::string unit = read_file(path("g/syscalls.systemd"));
  EXPECT_NE(unit.find("SystemCallFilter=~"), std::string::npos) << unit;
  EXPECT_NE(unit.find("getppid:EACCES"), std::string::npos) << unit;
  EXPECT_NE(unit.find("uname"), std::string::npos) << unit;
  const auto oci = nlohmann::json::parse(read_file(path("g/syscalls.oci")));
  EXPECT_EQ(oci["defaultAction"], "SCMP_ACT_ERRNO");
  bool eacces = false;
  for (const auto& rule : oci["syscalls"])
    for (const auto& name : rule["names"])
      if (name == "getppid") eacces = rule.value("errnoRet", 0) == EACCES && rule["action"] == "SCMP_ACT_ERRNO";
  EXPECT_TRUE(eacces) << oci.dump(1);
}

// Complain mode: members make the calls the policy denies, each counted in
// syscalls.denied; enforce denies them again at once.
TEST_F(LiveLooseningTest, ComplainModeCountsWithoutDenying) {
  mkgroup("g", "getppid");
  ASSERT_EQ(write_file(path("g/syscalls.mode"), "complain"), 0);
  EXPECT_EQ(read_file(path("g/syscalls.mode")), "complain\n");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");  // its first restriction routes getppid
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
  EXPECT_EQ(v.ask("uname"), "uname ok");
  EXPECT_EQ(denied("g"), "110 getppid 2\n");
  ASSERT_EQ(write_file(path("g/syscalls.mode"), "enforce"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  ASSERT_EQ(write_file(path("g/syscalls.mode"), "complain"), 0);  // and back: still routed
  EXPECT_EQ(v.ask("getppid"), "getppid ok");
}

// A number denied while complaining is not the member's filter's to route:
// it runs (uncounted) until enforce tightens it, as a deny would.
TEST_F(LiveLooseningTest, EnforceTightensWhatWasDeniedWhileComplaining) {
  mkgroup("g", "getppid");
  ASSERT_EQ(write_file(path("g/syscalls.mode"), "complain"), 0);
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "g");
  ASSERT_EQ(deny("g", "uname:EACCES"), 0);
  EXPECT_EQ(v.ask("uname"), "uname ok");
  ASSERT_EQ(write_file(path("g/syscalls.mode"), "enforce"), 0);
  EXPECT_EQ(v.ask("uname"), "uname EACCES");
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
}

TEST_F(EnforcerTest, ComplainFollowsTheHierarchy) {
  mkgroup("a");
  mkgroup("a/b");
  EXPECT_EQ(write_file(path("a/b/syscalls.mode"), "complain"), EPERM) << "its parent enforces";
  ASSERT_EQ(write_file(path("a/syscalls.mode"), "complain"), 0);
  ASSERT_EQ(write_file(path("a/b/syscalls.mode"), "complain"), 0);
  mkgroup("a/c");
  EXPECT_EQ(read_file(path("a/c/syscalls.mode")), "complain\n") << "a new group takes its parent's";
  ASSERT_EQ(write_file(path("a/syscalls.mode"), " enforce\n"), 0);
  for (const char* g : {"a", "a/b", "a/c"})
    EXPECT_EQ(read_file(path(std::string(g) + "/syscalls.mode")), "enforce\n") << g;
  EXPECT_EQ(write_file(path("syscalls.mode"), "complain"), EPERM) << "the root";
  EXPECT_EQ(write_file(path("a/syscalls.mode"), "audit"), EINVAL);
  EXPECT_EQ(read_file(path("syscalls.mode")), "enforce\n");
}

}  // namespace
}  // namespace syscg::test
