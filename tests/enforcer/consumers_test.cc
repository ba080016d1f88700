// Integration: real consumers of formats::to_oci. crun runs busybox in a
// container whose linux.seccomp is to_oci(...) of a group's policy; the call
// the policy denies (getcwd) fails inside, with its errno, and the rest works.
//
// crun refuses "cgroups in hybrid mode" on a hybrid host, so each run is in a
// private mount namespace where /sys/fs/cgroup is the unified hierarchy, with
// crun's cgroup manager disabled; a host where even that fails skips, with
// crun's own words.
#include "core/formats/oci.h"
#include "core/syscall_table.h"
#include "tests/support/mount.h"
#include "tests/support/process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCrun = "/usr/bin/crun";
constexpr const char* kBusybox = "/bin/busybox";  // busybox-static: needs nothing else in the rootfs

class ConsumersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: crun creates namespaces and mounts";
    if (!fs::exists(kCrun)) GTEST_SKIP() << kCrun << " is not installed";
    if (!fs::exists(kBusybox)) GTEST_SKIP() << kBusybox << " (busybox-static) is not installed";
    char tmpl[] = "/tmp/syscg-crun-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/bundle/rootfs/bin");
    fs::create_directories(dir_ + "/state");
    fs::copy_file(kBusybox, dir_ + "/bundle/rootfs/bin/busybox");
    const auto spec = sh(std::string(kCrun) + " spec 2>&1", dir_ + "/bundle");
    ASSERT_EQ(spec.status, 0) << spec.output;
    std::ifstream in(dir_ + "/bundle/config.json");
    config_ = nlohmann::json::parse(in);
    config_["process"]["terminal"] = false;
    config_["root"] = {{"path", "rootfs"}, {"readonly", true}};
    // Without a filter first: the host must be able to run a container at all.
    const auto probe = run({"/bin/busybox", "true"}, std::nullopt);
    if (probe.status != 0) GTEST_SKIP() << "crun cannot run a container here: " << probe.output;
  }
  void TearDown() override {
    if (dir_.empty()) return;
    for (const auto& id : ids_)
      (void)sh(std::string(kCrun) + " --root " + dir_ + "/state delete -f " + id + " 2>/dev/null");
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs argv in a new container with `seccomp` as its linux.seccomp (none
  // when nullopt); its status and output.
  RunResult run(const std::vector<std::string>& argv, const std::optional<std::string>& seccomp) {
    auto config = config_;
    config["process"]["args"] = argv;
    if (seccomp) config["linux"]["seccomp"] = nlohmann::json::parse(*seccomp);
    std::ofstream(dir_ + "/bundle/config.json") << config.dump(1);
    const std::string id = "syscg-test-" + std::to_string(::getpid()) + "-" + std::to_string(ids_.size());
    ids_.push_back(id);
    const std::string crun =
        std::string(kCrun) + " --root " + dir_ + "/state --cgroup-manager=disabled run -b " + dir_ + "/bundle " + id;
    return sh(
        "timeout 60 unshare -m sh -c 'mount --make-rprivate / && "
        "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && " +
        crun + "' 2>&1");
  }

  static unsigned nr(std::string_view name) { return syscall_table::number(name).value(); }

  std::string dir_;
  nlohmann::json config_;
  std::vector<std::string> ids_;
};

TEST_F(ConsumersTest, CrunEnforcesTheExportedPolicyDenyingGetcwd) {
  // (busybox's uname ignores a failed uname(2): pwd reports getcwd's.)
  SyscallSet allowed = SyscallSet::all();
  ASSERT_TRUE(allowed.reset(nr("getcwd")));
  const std::string profile = formats::to_oci(allowed, DenyErrnos{});

  auto r = run({"/bin/busybox", "pwd"}, profile);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Operation not permitted"), std::string::npos) << r.output;

  r = run({"/bin/busybox", "pwd"}, std::nullopt);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "/\n");

  r = run({"/bin/busybox", "grep", "^Seccomp:", "/proc/self/status"}, profile);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "Seccomp:\t2\n");  // the filter is there, and allows what it should
}

TEST_F(ConsumersTest, CrunReturnsTheErrnoOfTheDenial) {
  SyscallSet allowed = SyscallSet::all();
  ASSERT_TRUE(allowed.reset(nr("getcwd")));
  SyscallSet getcwd;
  ASSERT_TRUE(getcwd.set(nr("getcwd")));
  DenyErrnos errnos;
  errnos.assign(getcwd, ENOSYS);
  const auto r = run({"/bin/busybox", "pwd"}, formats::to_oci(allowed, errnos));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Function not implemented"), std::string::npos) << r.output;
}

// Through a mount: a group's syscalls.oci, read from the file, confines a
// container.
TEST_F(ConsumersTest, CrunEnforcesAGroupsSyscallsOci) {
  Mount mount({"-o", "state=none"});
  ASSERT_EQ(sh("mkdir g && echo getcwd:ENOSYS > g/syscalls.deny", mount.dir()).status, 0);
  std::ifstream in(mount.path("g/syscalls.oci"));
  const std::string profile((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(profile.empty());
  auto r = run({"/bin/busybox", "pwd"}, profile);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Function not implemented"), std::string::npos) << r.output;
  r = run({"/bin/busybox", "echo", "allowed"}, profile);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "allowed\n");
}

}  // namespace
}  // namespace syscg::test
