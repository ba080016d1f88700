// The system layer: errors keep the errno and the call; the log sink
// switches from one medium to another.
#include "enforcer/sys/error.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>

namespace syscg::sys {
namespace {

TEST(SysTest, ErrcFollowsTheErrno) {
  EXPECT_EQ(errc_of(ESRCH), Errc::no_process);
  EXPECT_EQ(errc_of(ECHILD), Errc::no_process);
  EXPECT_EQ(errc_of(EPERM), Errc::permission);
  EXPECT_EQ(errc_of(EACCES), Errc::permission);
  EXPECT_EQ(errc_of(EBUSY), Errc::busy);
  EXPECT_EQ(errc_of(EMFILE), Errc::limit);
  EXPECT_EQ(errc_of(EINVAL), Errc::invalid);
  EXPECT_EQ(errc_of(EIO), Errc::io);
}

TEST(SysTest, AnErrorKeepsItsErrnoAndTheCall) {
  const UniqueFd fd(open("/nonexistent/syscg", O_RDONLY | O_CLOEXEC));
  ASSERT_FALSE(fd);
  const Error e = sys_error(Errc::io, "open /nonexistent/syscg");
  EXPECT_EQ(e.code, Errc::io);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_EQ(e.message, "open /nonexistent/syscg: No such file or directory (ENOENT)");
  EXPECT_EQ(sys_error("kill", ESRCH).code, Errc::no_process);
}

TEST(SysTest, TheSwitchableLogWritesToItsCurrentSink) {
  MemoryLog first, second;
  SwitchableLog log(first);
  log.error("a {}", 1);
  log.set(second);
  log.warning("b");
  log.notice("c");
  EXPECT_EQ(first.lines(), std::vector<std::string>{"error: a 1"});
  EXPECT_EQ(second.lines(), (std::vector<std::string>{"warning: b", "c"}));
}

TEST(SysTest, AReleasedFdIsNotClosed) {
  UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  const int raw = fd.release();
  EXPECT_FALSE(fd);
  EXPECT_EQ(fcntl(raw, F_GETFD), FD_CLOEXEC);
  UniqueFd again(raw);  // closes it
}

}  // namespace
}  // namespace syscg::sys
