// Integration tests of the enforcer: real processes, the real kernel's
// seccomp, a real syscgfs mount. Filters go into victims only.
#include "tests/support/mount.h"

#include <gtest/gtest.h>

#include <memory>

namespace syscg::test {
namespace {

class EnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts with allow_other and ptraces victims";
    mount_ = std::make_unique<Mount>();
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_EQ(mount_->log_errors(), "") << "the daemon logged errors";
    }
    mount_.reset();
  }
  RunResult sh(const std::string& script) { return mount_->sh(script); }

  std::unique_ptr<Mount> mount_;
};

TEST_F(EnforcerTest, LaunchedProcessIsFilteredFromItsFirstInstruction) {
  ASSERT_EQ(sh("mkdir web && echo getppid > web/syscalls.deny").status, 0);
  auto r = sh(syscg_binary() + " exec -m . web -- " + victim_binary() + " probe getppid uname");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "getppid EPERM\nuname ok\n");
}

}  // namespace
}  // namespace syscg::test
