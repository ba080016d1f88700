// Unit tests of the fake service manager (tests/support/service_manager.h),
// driven by notify_sender, a client on the real libsystemd.

#include "tests/support/service_manager.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `notify_sender ARGS...` under `m` to its end; its exit status.
int sender(ServiceManager& m, const std::vector<std::string>& args) {
  std::vector<std::string> argv{NOTIFY_SENDER};
  argv.insert(argv.end(), args.begin(), args.end());
  m.start(argv);
  return m.wait_exit(10s);
}

TEST(ServiceManagerTest, RecordsEveryAssignmentAndItsSender) {
  ServiceManager m;
  const pid_t pid = m.start({NOTIFY_SENDER, "send", "READY=1\nSTATUS=up and running\nMAINPID=42"});
  const auto ready = m.wait_ready(10s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->sender, pid);
  EXPECT_EQ(ready->get("STATUS"), "up and running");
  EXPECT_EQ(ready->get("MAINPID"), "42");
  EXPECT_EQ(ready->get("ERRNO"), std::nullopt);
  EXPECT_EQ(m.wait_exit(10s), 0);
  ASSERT_EQ(sender(m, {"send", "STOPPING=1\nERRNO=5"}), 0);
  ASSERT_EQ(m.messages().size(), 2u);
  EXPECT_TRUE(m.messages()[1].has("STOPPING", "1"));
  EXPECT_EQ(m.messages()[1].get("ERRNO"), "5");
  EXPECT_FALSE(m.wait_ready(0ms)) << "the first READY=1 was returned already";
}

TEST(ServiceManagerTest, TheFdStoreKeepsNamedFdsAndRemovesThem) {
  ServiceManager m;
  ASSERT_EQ(sender(m, {"send", "FDSTORE=1\nFDNAME=db", "/dev/null"}), 0);
  ASSERT_EQ(sender(m, {"send", "FDSTORE=1", "/dev/zero", "/dev/full"}), 0);
  ASSERT_EQ(sender(m, {"send", "STATUS=fds without FDSTORE are closed", "/dev/null"}), 0);
  EXPECT_EQ(m.store_names(), (std::vector<std::string>{"db", "stored", "stored"}));
  EXPECT_EQ(m.messages().back().fds, 1u);
  ASSERT_EQ(m.store().size(), 3u);
  char target[64] = {};
  ASSERT_GT(readlink(("/proc/self/fd/" + std::to_string(m.store()[0].fd)).c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "/dev/null");

  ASSERT_EQ(sender(m, {"send", "FDSTOREREMOVE=1\nFDNAME=stored"}), 0);
  EXPECT_EQ(m.store_names(), (std::vector<std::string>{"db"}));
}

TEST(ServiceManagerTest, TheStoreHasAMaximum) {
  ServiceManager m(2);
  ASSERT_EQ(sender(m, {"send", "FDSTORE=1\nFDNAME=x", "/dev/null", "/dev/zero", "/dev/full"}), 0);
  EXPECT_EQ(m.store_names(), (std::vector<std::string>{"x", "x"}));
}

TEST(ServiceManagerTest, PassesTheStoreTheSystemdWay) {
  ServiceManager m;
  ASSERT_EQ(sender(m, {"send", "FDSTORE=1\nFDNAME=db", "/dev/null"}), 0);
  ASSERT_EQ(sender(m, {"send", "FDSTORE=1\nFDNAME=tree", "/dev/zero"}), 0);
  const std::string log = std::string(::testing::TempDir()) + "service_manager_listen.log";
  m.start({NOTIFY_SENDER, "listen"}, {.pass_store = true, .log_path = log, .env = {}});
  ASSERT_EQ(m.wait_exit(10s), 0) << slurp(log);
  // sd_listen_fds_with_names checks LISTEN_PID against its own pid.
  EXPECT_EQ(slurp(log), "2 db:/dev/null tree:/dev/zero open=3,4\n");
  // Without pass_store, nothing is passed (and none of the runner's fds).
  m.start({NOTIFY_SENDER, "listen"}, {.pass_store = false, .log_path = log, .env = {}});
  ASSERT_EQ(m.wait_exit(10s), 0) << slurp(log);
  EXPECT_EQ(slurp(log), "0 open=\n");
  unlink(log.c_str());
}

TEST(ServiceManagerTest, ExtraEnvironmentReplacesTheSocket) {
  ServiceManager m;
  m.start({NOTIFY_SENDER, "send", "READY=1"}, {.pass_store = false, .log_path = "", .env = {"NOTIFY_SOCKET="}});
  EXPECT_EQ(m.wait_exit(10s), 1) << "no socket: sd_notify sends nothing";
  EXPECT_TRUE(m.messages().empty());
}

TEST(ServiceManagerTest, StopTermsThenKills) {
  ServiceManager m;
  m.start({"/bin/sleep", "100"});
  EXPECT_EQ(m.stop(10s), 128 + SIGTERM);
  // It says READY=1 once SIGTERM is ignored (sleep inherits that).
  m.start({"/bin/sh", "-c", std::string("trap '' TERM; ") + NOTIFY_SENDER + " send READY=1; exec /bin/sleep 100"});
  ASSERT_TRUE(m.wait_ready(10s));
  EXPECT_EQ(m.stop(200ms), 128 + SIGKILL);
}

TEST(ServiceManagerTest, TheDestructorKillsAndReaps) {
  pid_t pid;
  {
    ServiceManager m;
    pid = m.start({"/bin/sleep", "100"});
  }
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_EQ(errno, ESRCH) << "reaped, not a zombie";
}

}  // namespace
}  // namespace syscg::test
