// Integration tests of syscgfs as a systemd service (issue 13): the unit
// passes systemd-analyze verify; the daemon speaks the notification
// protocol to a real NOTIFY_SOCKET (the fake manager of
// tests/support/service_manager.h); it works with exactly the unit's
// capability bounding set and no_new_privs. What needs systemd as PID 1
// (systemctl start, the journal, the fd store across a real restart) is not
// tested here: see the README's "Running as a systemd service".

#include "tests/support/mount.h"
#include "tests/support/proc.h"
#include "tests/support/service_manager.h"
#include "tests/support/victim_driver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iomanip>
#include <linux/capability.h>
#include <stdexcept>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Creates (or truncates) `path` with `text`; 0 or the errno.
int write_file_new(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const ssize_t n = write(fd, text.data(), text.size());
  const int err = n == static_cast<ssize_t>(text.size()) ? 0 : n < 0 ? errno : EIO;
  close(fd);
  return err;
}

// Lines of `text` that contain `needle`.
std::string lines_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out += line + "\n";
  return out;
}

// syscgfs run as the unit runs it (syscgfs DIR -f -o state=...), by the
// fake service manager. The destructor detaches the mount, stops and reaps
// the daemon and removes its files.
class ManagedDaemon {
 public:
  ManagedDaemon() {
    std::string templ = "/tmp/syscgfs-service-XXXXXX";
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    chmod(dir_.c_str(), 0755);
  }
  ManagedDaemon(const ManagedDaemon&) = delete;
  ManagedDaemon& operator=(const ManagedDaemon&) = delete;
  ~ManagedDaemon() {
    sh("fusermount3 -u -z '" + dir_ + "' >/dev/null 2>&1; true");
    manager.stop(std::chrono::seconds(5));
    rmdir(dir_.c_str());
    remove_state_files(state());
    if (!std::getenv("SYSCG_TEST_KEEP_LOGS")) unlink(log_path().c_str());
  }

  void start(std::vector<std::string> env = {}, bool pass_store = false) {
    manager.start({syscgfs_binary(), dir_, "-f", "-o", "state=" + state()},
                  {.pass_store = pass_store, .log_path = log_path(), .env = std::move(env)});
  }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
  std::string state() const { return dir_ + ".state"; }
  std::string log_path() const { return dir_ + ".log"; }
  std::string log() const { return read_file(log_path()); }

  ServiceManager manager;

 private:
  std::string dir_;
};

class SyscgfsServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signal(SIGPIPE, SIG_IGN); }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: syscgfs mounts with allow_other, the enforcer ptraces";
  }
};

TEST_F(SyscgfsServiceTest, ReadyOnlyOnceMountedAndRestoredStoppingOnTerm) {
  ManagedDaemon d;
  d.start();
  const auto first = d.manager.wait_ready(20s);
  ASSERT_TRUE(first) << d.log();
  ASSERT_TRUE(is_mount_point(d.dir()));
  ASSERT_EQ(::mkdir(d.path("kept").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(write_file(d.path("kept/syscalls.deny"), "getppid\n"), 0);
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(errno_name(write_file(d.path("kept/cgroup.procs"), std::to_string(v.pid()) + "\n")), "0");
  ASSERT_EQ(v.ask("getppid"), "getppid EPERM");

  EXPECT_EQ(d.manager.stop(10s), 0) << d.log();
  const auto& after_first = d.manager.messages();
  ASSERT_FALSE(after_first.empty());
  EXPECT_TRUE(after_first.back().has("STOPPING", "1")) << after_first.back().text;
  EXPECT_FALSE(is_mount_point(d.dir()));

  // The second run restores the group and re-adopts its member, all before
  // READY=1: what a unit ordered after syscgfs.service sees first.
  d.start();
  const auto ready = d.manager.wait_ready(20s);
  ASSERT_TRUE(ready) << d.log();
  EXPECT_TRUE(is_mount_point(d.dir())) << "READY=1 before the mount";
  EXPECT_TRUE(is_dir(d.path("kept"))) << "READY=1 before the state was restored";
  EXPECT_EQ(read_file(d.path("kept/cgroup.procs")), std::to_string(v.pid()) + "\n") << "member not re-adopted";
  EXPECT_EQ(ready->sender, d.manager.pid()) << "from the main process (NotifyAccess=main)";
  const auto status = ready->get("STATUS");
  ASSERT_TRUE(status);
  EXPECT_NE(status->find(d.dir()), std::string::npos) << *status;

  EXPECT_EQ(d.manager.stop(10s), 0) << d.log();
  EXPECT_TRUE(d.manager.messages().back().has("STOPPING", "1"));
  EXPECT_EQ(d.manager.messages().back().sender, d.manager.pid());
  EXPECT_EQ(lines_with(d.log(), "error"), "");
}

TEST_F(SyscgfsServiceTest, AFailedNotificationIsLoggedAndTheDaemonRunsOn) {
  ManagedDaemon d;
  d.start({"NOTIFY_SOCKET=/nonexistent/syscg-notify"});
  const auto deadline = Clock::now() + 20s;
  while (lines_with(d.log(), "sd_notify(READY=1)").empty() && d.manager.poll_exit() < 0 && Clock::now() < deadline)
    d.manager.wait_exit(20ms);
  EXPECT_NE(lines_with(d.log(), "error: sd_notify(READY=1)"), "") << d.log();
  EXPECT_TRUE(is_mount_point(d.dir())) << "a notification that cannot be sent does not stop the daemon";
  EXPECT_EQ(d.manager.stop(10s), 0) << d.log();
  EXPECT_NE(lines_with(d.log(), "error: sd_notify(STOPPING=1)"), "") << d.log();
  EXPECT_TRUE(d.manager.messages().empty());
}

// ------------------------------------------- the unit's capability set

// The words after CapabilityBoundingSet= in the configured unit.
std::vector<std::string> unit_capabilities() {
  std::istringstream in(read_file(SYSCGFS_UNIT));
  std::vector<std::string> caps;
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("CapabilityBoundingSet=")) {
      std::istringstream words(line.substr(line.find('=') + 1));
      for (std::string w; words >> w;) caps.push_back(w);
    }
  return caps;
}

// The capability's bit, or -1 for a name this table lacks.
int capability_bit(const std::string& name) {
  static const std::pair<const char*, int> kCaps[] = {
      {"CAP_CHOWN", CAP_CHOWN},
      {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE},
      {"CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
      {"CAP_FOWNER", CAP_FOWNER},
      {"CAP_FSETID", CAP_FSETID},
      {"CAP_KILL", CAP_KILL},
      {"CAP_SETGID", CAP_SETGID},
      {"CAP_SETUID", CAP_SETUID},
      {"CAP_SETPCAP", CAP_SETPCAP},
      {"CAP_NET_ADMIN", CAP_NET_ADMIN},
      {"CAP_IPC_LOCK", CAP_IPC_LOCK},
      {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
      {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
      {"CAP_SYS_RESOURCE", CAP_SYS_RESOURCE},
      {"CAP_AUDIT_WRITE", CAP_AUDIT_WRITE},
      {"CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE},
  };
  for (const auto& [n, bit] : kCaps)
    if (name == n) return bit;
  return -1;
}

// The daemon runs under setpriv with exactly the unit's bounding set and
// no_new_privs (what CapabilityBoundingSet= and NoNewPrivileges=yes give a
// root service): it mounts, moves a process in, tightens it (ptrace
// injection), loosens it live (the supervisor), and keeps its process
// events (the netlink connector), logging no error and no warning.
TEST_F(SyscgfsServiceTest, TheUnitsCapabilitiesSuffice) {
  const auto caps = unit_capabilities();
  ASSERT_FALSE(caps.empty()) << SYSCGFS_UNIT << " has no CapabilityBoundingSet=";
  std::string bounding = "--bounding-set=-all";
  std::uint64_t mask = 0;
  for (const auto& c : caps) {
    const int bit = capability_bit(c);
    ASSERT_GE(bit, 0) << c << ": add it to capability_bit()";
    mask |= std::uint64_t{1} << bit;
    std::string lower = c.substr(4);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bounding += ",+" + lower;
  }
  Mount m({}, {"/usr/bin/setpriv", bounding, "--no-new-privs"});
  const std::string proc = "/proc/" + std::to_string(m.daemon_pid());
  std::ostringstream hex;
  hex << std::hex << std::setfill('0') << std::setw(16) << mask;
  EXPECT_EQ(status_field(proc, "CapBnd"), hex.str());
  EXPECT_EQ(status_field(proc, "CapEff"), hex.str());
  EXPECT_EQ(status_field(proc, "NoNewPrivs"), "1");

  ASSERT_EQ(::mkdir(m.path("g").c_str(), 0755), 0) << std::strerror(errno);
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(errno_name(write_file(m.path("g/cgroup.procs"), std::to_string(v.pid()) + "\n")), "0") << m.log();
  ASSERT_EQ(errno_name(write_file(m.path("g/syscalls.deny"), "getppid:EACCES\n")), "0") << m.log();
  EXPECT_EQ(v.ask("getppid"), "getppid EACCES");
  EXPECT_EQ(v.ask("uname"), "uname ok");
  ASSERT_EQ(errno_name(write_file(m.path("g/syscalls.allow"), "getppid\n")), "0") << m.log();
  EXPECT_EQ(v.ask("getppid"), "getppid ok") << "live loosening through the supervisor";
  EXPECT_EQ(read_file(m.path("g/syscalls.stricter")), "");
  EXPECT_EQ(v.ask("fork"), "fork ok");
  EXPECT_EQ(m.log_errors(), "");
  EXPECT_EQ(lines_with(m.log(), "warning"), "") << "e.g. process events unavailable (CAP_NET_ADMIN)";
}

// ------------------------------------------- systemd-analyze verify

// A copy of the configured unit and of the example, in a temporary
// directory, with the build tree's binaries where the installed ones would
// be (verify checks that every Exec*= binary exists); all else unchanged.
TEST(SyscgfsUnitTest, VerifyFindsNothingToSayAboutOurUnits) {
  char templ[] = "/tmp/syscg-units-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const std::string dir = templ;
  auto replace = [](std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
    return text;
  };
  const std::string unit = read_file(SYSCGFS_UNIT);
  const std::string example = read_file(EXAMPLE_UNIT);
  ASSERT_NE(unit.find(std::string("ExecStart=") + INSTALL_BINDIR + "/syscgfs "), std::string::npos) << unit;
  ASSERT_NE(example.find("ExecStart=/usr/bin/syscg exec web -- "), std::string::npos) << example;
  ASSERT_EQ(write_file_new(dir + "/syscgfs.service",
                           replace(unit, std::string(INSTALL_BINDIR) + "/syscgfs ", syscgfs_binary() + " ")),
            0);
  ASSERT_EQ(
      write_file_new(dir + "/syscg-example-web.service", replace(example, "/usr/bin/syscg ", syscg_binary() + " ")), 0);
  // --man=no: the man pages are packaging's, not installed here. Lines
  // about the host's own units are not ours to judge.
  const auto r =
      sh("systemd-analyze verify --man=no '" + dir + "/syscgfs.service' '" + dir + "/syscg-example-web.service'");
  const std::string ours =
      lines_with(r.output, "syscgfs") + lines_with(r.output, "syscg-example-web") + lines_with(r.output, dir);
  EXPECT_EQ(ours, "") << r.output;
  EXPECT_EQ(r.status, 0) << r.output;
  sh("rm -rf '" + dir + "'");
}

// The unit keeps no option that would hide the mount (a mount namespace) or
// put a seccomp filter on the daemon (PTRACE_SECCOMP_GET_FILTER is EACCES
// to a filtered tracer): the reasons are in the unit's comments.
TEST(SyscgfsUnitTest, NoNamespaceOrSeccompOption) {
  std::istringstream in(read_file(SYSCGFS_UNIT));
  const char* const kForbidden[] = {
      "ProtectSystem",
      "ProtectHome",
      "PrivateTmp",
      "PrivateDevices",
      "PrivateMounts",
      "PrivateIPC",
      "PrivateNetwork",
      "PrivateUsers",
      "ProtectKernelTunables",
      "ProtectKernelModules",
      "ProtectKernelLogs",
      "ProtectControlGroups",
      "ProtectProc",
      "ProcSubset",
      "ReadWritePaths",
      "ReadOnlyPaths",
      "InaccessiblePaths",
      "ExecPaths",
      "NoExecPaths",
      "TemporaryFileSystem",
      "BindPaths",
      "BindReadOnlyPaths",
      "RootDirectory",
      "RootImage",
      "LogNamespace",
      "MountAPIVFS",
      "SystemCallFilter",
      "SystemCallArchitectures",
      "SystemCallLog",
      "RestrictAddressFamilies",
      "RestrictNamespaces",
      "RestrictRealtime",
      "RestrictSUIDSGID",
      "LockPersonality",
      "MemoryDenyWriteExecute",
      "ProtectClock",
      "ProtectHostname",
      "DynamicUser",
      "User",
  };
  for (std::string line; std::getline(in, line);)
    for (const char* key : kForbidden) EXPECT_FALSE(line.starts_with(std::string(key) + "=")) << line;
}

// Starts `d`, makes group g denying getppid and moves `v` (a `victim serve`)
// into it: its first restriction routes getppid to the supervisor.
void start_with_routed_member(ManagedDaemon& d, Victim& v) {
  d.start();
  ASSERT_TRUE(d.manager.wait_ready(20s)) << d.log();
  ASSERT_EQ(::mkdir(d.path("g").c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(write_file(d.path("g/syscalls.deny"), "getppid\n"), 0);
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_EQ(errno_name(write_file(d.path("g/cgroup.procs"), std::to_string(v.pid()) + "\n")), "0");
  ASSERT_EQ(v.ask("getppid"), "getppid EPERM");
}

// Restarts that lose nothing, under a service manager (issue 13 §3): the
// daemon stopped by the manager puts its listeners (one name per member) and
// its bundle in the fd store; while no daemon runs, a routed call waits in
// the kernel; the next start takes them back, answers it from the policy,
// and a later allow reaches the running member. Then the store is emptied:
// a crash fails closed again.
TEST_F(SyscgfsServiceTest, ARestartByTheManagerKeepsRoutedCallsWaitingAndLoosenable) {
  ManagedDaemon d;
  Victim v({"serve"});
  ASSERT_NO_FATAL_FAILURE(start_with_routed_member(d, v));

  ASSERT_EQ(d.manager.stop(10s), 0) << d.log();
  (void)d.manager.messages();  // every message received
  const auto names = d.manager.store_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "syscg-bundle"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "member-" + std::to_string(v.pid())), names.end());
  EXPECT_FALSE(is_mount_point(d.dir()));

  // No daemon: the call waits in the kernel (the store holds the listener).
  ASSERT_TRUE(v.send("getppid"));
  EXPECT_TRUE(wait_for_syscall(v.pid(), {SYS_getppid})) << "not blocked in getppid";

  d.start({}, /*pass_store=*/true);
  ASSERT_TRUE(d.manager.wait_ready(20s)) << d.log();
  EXPECT_EQ(v.read_line(10s), "getppid EPERM") << "answered by the new daemon, from the policy";
  EXPECT_EQ(read_file(d.path("g/cgroup.procs")), std::to_string(v.pid()) + "\n");
  EXPECT_EQ(read_file(d.path("g/syscalls.stricter")), "") << "nothing lost: no daemon-restarted";
  ASSERT_EQ(write_file(d.path("g/syscalls.allow"), "getppid\n"), 0);
  EXPECT_EQ(v.ask("getppid"), "getppid ok");

  // The new daemon holds them now; the store's copies are gone.
  const auto& msgs = d.manager.messages();
  EXPECT_TRUE(
      std::any_of(msgs.begin(), msgs.end(), [](const NotifyMessage& m) { return m.has("FDSTOREREMOVE", "1"); }));
  EXPECT_EQ(d.manager.store_names(), std::vector<std::string>{});
  EXPECT_EQ(lines_with(d.log(), "error"), "") << d.log();
}

// A crash stores nothing: routed calls fail closed (ENOSYS), as without a
// manager.
TEST_F(SyscgfsServiceTest, ACrashStillFailsClosed) {
  ManagedDaemon d;
  Victim v({"serve"});
  ASSERT_NO_FATAL_FAILURE(start_with_routed_member(d, v));
  ASSERT_EQ(::kill(d.manager.pid(), SIGKILL), 0);
  EXPECT_EQ(d.manager.wait_exit(10s), 128 + SIGKILL);
  EXPECT_EQ(v.ask("getppid"), "getppid ENOSYS");
  (void)d.manager.messages();
  EXPECT_EQ(d.manager.store_names(), std::vector<std::string>{});
}

}  // namespace
}  // namespace syscg::test
