// A GoogleTest fixture base: every test gets a fresh real syscgfs mount,
// fails if the daemon logged an error, and always cleans up.
#pragma once

#include "tests/support/mount.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <unistd.h>

namespace syscg::test {

class MountedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: syscgfs mounts with allow_other, the enforcer ptraces";
    mount_ = std::make_unique<Mount>();
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_EQ(mount_->log_errors(), "") << "the daemon logged errors";
    }
    mount_.reset();
  }
  RunResult sh(const std::string& script) { return mount_->sh(script); }
  std::string path(const std::string& rel) { return mount_->path(rel); }

  std::unique_ptr<Mount> mount_;
};

}  // namespace syscg::test
