// Integration tests: a real syscgfs mount driven by real shell tools (see
// tests/support/syscgfs_fixture.h); every process a test starts is killed
// and reaped before the test ends.
//
// The daemon's life (killed, signalled) and its command line.
#include "tests/support/syscgfs_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

// ---------------------------------------------------------------------------
// The daemon's lifetime

TEST_F(SyscgfsTest, KilledDaemonLeavesTransportEndpointNotConnected) {
  ok("mkdir g");
  const std::string dir = mount_->dir();
  ASSERT_EQ(::kill(mount_->daemon_pid(), SIGKILL), 0);
  EXPECT_EQ(mount_->daemon().wait_for(10s), 128 + SIGKILL);
  // Outside the mount: the fixture's sh would cd into it first.
  for (const std::string& script : {"cat '" + dir + "/g/cgroup.procs'", "ls '" + dir + "'", "mkdir '" + dir + "/x'",
                                    "echo 5 > '" + dir + "/g/syscalls.deny'"}) {
    const auto r = test::sh(script, "/");
    EXPECT_NE(r.status, 0) << script;
    EXPECT_NE(r.output.find(std::strerror(ENOTCONN)), std::string::npos) << script << "\n" << r.output;
  }
  EXPECT_TRUE(mounted(dir));
  mount_.reset();  // the fixture still cleans up
  EXPECT_FALSE(mounted(dir));
  EXPECT_FALSE(exists(dir));
}

TEST_F(SyscgfsTest, SigintUnmountsCleanly) { expect_signal_unmounts(SIGINT); }
TEST_F(SyscgfsTest, SigtermUnmountsCleanly) { expect_signal_unmounts(SIGTERM); }
TEST_F(SyscgfsTest, SighupUnmountsCleanly) { expect_signal_unmounts(SIGHUP); }

// ---------------------------------------------------------------------------
// The daemon's command line, run directly (not through the fixture)

// Runs syscgfs with `args`; the output holds its stderr only.
RunResult run_syscgfs_stderr(const std::string& args) {
  return test::sh("timeout 10 '" + syscgfs_binary() + "' " + args + " 2>&1 >/dev/null", "/");
}

// The README: a mountpoint that is missing, not a directory or already a
// mount point gets one line on stderr and exit status 1 (as does no
// mountpoint at all).
void expect_one_error_line(const RunResult& r, const std::string& what) {
  EXPECT_NE(r.status, 0) << what;
  EXPECT_EQ(r.status, 1) << what << ": stderr was\n" << r.output;
  EXPECT_NE(r.status, 124) << what << ": timed out";
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << what << ": stderr was\n" << r.output;
  EXPECT_TRUE(!r.output.empty() && r.output.back() == '\n') << what << ": stderr was\n" << r.output;
}

TEST(SyscgfsCliTest, MissingMountpointIsOneLineError) {
  std::string parent = "/tmp/syscgfs-cli-XXXXXX";
  ASSERT_NE(mkdtemp(parent.data()), nullptr);
  const std::string missing = parent + "/missing";
  expect_one_error_line(run_syscgfs_stderr("'" + missing + "' -f"), "missing mountpoint");
  EXPECT_FALSE(exists(missing));
  EXPECT_FALSE(mounted(missing));
  rmdir(parent.c_str());
}

TEST(SyscgfsCliTest, RegularFileMountpointIsOneLineError) {
  std::string file = "/tmp/syscgfs-cli-XXXXXX";
  const int fd = mkstemp(file.data());
  ASSERT_GE(fd, 0);
  close(fd);
  expect_one_error_line(run_syscgfs_stderr("'" + file + "' -f"), "regular file");
  EXPECT_FALSE(mounted(file));
  struct stat st {};
  EXPECT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  unlink(file.c_str());
}

TEST(SyscgfsCliTest, NoMountpointIsOneLineError) { expect_one_error_line(run_syscgfs_stderr(""), "no mountpoint"); }

TEST(SyscgfsCliTest, BusyMountpointIsOneLineError) {
  if (geteuid() != 0) GTEST_SKIP() << "needs a real mount, hence root";
  Mount m;
  expect_one_error_line(run_syscgfs_stderr("'" + m.dir() + "' -f"), "busy mountpoint");
  EXPECT_EQ(mount_count(m.dir()), 1);
  // The existing mount is untouched.
  const auto r = m.sh("mkdir g && cat g/cgroup.events");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "populated 0\n");
}

TEST(SyscgfsCliTest, VersionAndHelpExitZero) {
  auto r = test::sh("timeout 10 '" + syscgfs_binary() + "' --version", "/");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("syscgfs"), std::string::npos) << r.output;
  r = test::sh("timeout 10 '" + syscgfs_binary() + "' -V", "/");
  EXPECT_EQ(r.status, 0) << r.output;
  r = test::sh("timeout 10 '" + syscgfs_binary() + "' --help", "/");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("usage"), std::string::npos) << r.output;
  r = test::sh("timeout 10 '" + syscgfs_binary() + "' -h", "/");
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
// mount(8) and fstab (issue 13): mount.fuse3 runs `syscgfs SOURCE
// MOUNTPOINT -o OPTIONS` for the type fuse.syscgfs; the source is ignored.
// mount(8) resets PATH, so the syscgfs under test is put first on the
// default one: in a private mount namespace, a tmpfs over /usr/local/sbin
// holds a link to it. The whole check runs in that namespace (the mount is
// only there), unmounting before it ends.
class MountCommandTest : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mount(8) needs root";
    if (test::sh("command -v mount.fuse3", "/").status != 0) GTEST_SKIP() << "mount.fuse3 (fuse3) is not installed";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    if (dir_.find("XXXXXX") != std::string::npos) return;
    std::remove((dir_ + ".fstab").c_str());
    rmdir(dir_.c_str());
  }
  // Runs `mount_cmd` in the namespace, then uses and unmounts the mount.
  RunResult mount_and_use(const std::string& mount_cmd) {
    const std::string script = "set -e; mount --make-rprivate /; mount -t tmpfs tmpfs /usr/local/sbin; ln -s '" +
                               syscgfs_binary() + "' /usr/local/sbin/syscgfs; " + mount_cmd + "; grep -q ' " + dir_ +
                               " fuse.syscg ' /proc/mounts; cd '" + dir_ +
                               "'; mkdir g; echo 59 > g/syscalls.deny; cat g/syscalls.deny; cd /; umount '" + dir_ +
                               "'; ! grep -q ' " + dir_ + " ' /proc/mounts";
    return test::sh("timeout 60 unshare -m sh -c \"" + script + "\" 2>&1", "/");
  }
  std::string dir_ = "/tmp/syscgfs-mount-XXXXXX";
};

TEST_F(MountCommandTest, MountTypeFuseSyscgfsMountsIt) {
  const auto r = mount_and_use("mount -t fuse.syscgfs -o state=none syscgfs " + dir_);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "59\n");
}

TEST_F(MountCommandTest, AnFstabLineMountsIt) {
  std::ofstream(dir_ + ".fstab") << "syscgfs " << dir_ << " fuse.syscgfs state=none,noauto 0 0\n";
  const auto r = mount_and_use("mount -T " + dir_ + ".fstab " + dir_);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "59\n");
}

TEST(SyscgfsCliTest, ASourceBeforeTheMountpointIsIgnoredAndAThirdWordRefused) {
  expect_one_error_line(run_syscgfs_stderr("a b c -f"), "three words");
  expect_one_error_line(run_syscgfs_stderr("syscgfs /nonexistent-syscg-dir -f"), "the second word is the mountpoint");
}

}  // namespace syscg::test
