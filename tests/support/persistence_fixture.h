// The PersistenceTest fixture: state that survives the daemon (issue 5 §6),
// a state database shared by successive mounts of the same test.
#pragma once

#include "tests/support/mount.h"
#include "tests/support/proc.h"
#include "tests/support/victim_driver.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace syscg::test {

// State that survives the daemon (issue 5 §6): a state file shared by
// successive mounts.
class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts with allow_other and ptraces victims";
    char templ[] = "/tmp/syscg-persist-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    state_ = dir_ + "/state";
  }
  void TearDown() override {
    if (dir_.empty()) return;
    remove_state_files(state_);
    unlink((dir_ + "/log").c_str());
    rmdir(dir_.c_str());
  }
  std::unique_ptr<Mount> mount(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"-o", "state=" + state_};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Mount>(args);
  }

  std::string dir_, state_;
};

}  // namespace syscg::test
