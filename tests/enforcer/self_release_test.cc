// Integration tests of the enforcer, no self-release: a root shell inside a
// group cannot loosen or leave its group through the mount.

#include "tests/support/enforcer_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

// A root shell inside a group cannot free itself through the mount, but can
// work below its own group (issue 5, "no self-release").
class SelfReleaseTest : public MountedTest {};

TEST_F(SelfReleaseTest, AMemberCannotLoosenOrLeaveItsGroup) {
  ASSERT_EQ(sh("mkdir g other && echo uname > g/syscalls.deny").status, 0);
  const auto r = sh(R"(bash -c '
    echo $$ > g/cgroup.procs
    echo uname > g/syscalls.allow; echo "allow=$?"
    echo uname > syscalls.allow; echo "root-allow=$?"
    echo $$ > cgroup.procs; echo "to-root=$?"
    echo $$ > other/cgroup.procs; echo "to-other=$?"
    mkdir g/sub && echo getppid > g/sub/syscalls.deny && echo $$ > g/sub/cgroup.procs; echo "to-sub=$?"
  ' 2>&1)");
  for (const char* line : {"allow=1", "root-allow=1", "to-root=1", "to-other=1", "to-sub=0"})
    EXPECT_NE(r.output.find(line), std::string::npos) << line << " in:\n" << r.output;
  EXPECT_NE(r.output.find("Operation not permitted"), std::string::npos) << r.output;
  EXPECT_EQ(sh("cat g/syscalls.deny").output, "63\n");
  EXPECT_EQ(sh("cat other/cgroup.procs cgroup.procs").output, "");
}

}  // namespace
}  // namespace syscg::test
