// Integration tests: a real syscgfs mount driven by real shell tools.
//
// Every test acts only through real file operations: bash, coreutils, python3
// and setpriv run against a fresh mount (the Mount fixture), and every process
// a test starts is killed and reaped before the test ends.
#include "tests/support/mounted_test.h"

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

using namespace std::chrono_literals;

constexpr int kWidth = 512;            // syscall numbers 0..511
constexpr int kRestartSyscall = 219;   // always allowed, never listed as denied

// ---------------------------------------------------------------------------
// Helpers that need no mount.

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `pred` until it holds or the deadline passes (a deadline for waiting,
// never a timing assertion).
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 10s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// How many mounts /proc/self/mountinfo lists at `dir` (unlike a stat, this
// also sees a mount whose daemon is gone).
int mount_count(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point == dir) ++count;
  }
  return count;
}

bool mounted(const std::string& dir) { return mount_count(dir) > 0; }

// A single-quoted shell word.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// "1 2 3\n" -> {1, 2, 3}
std::set<int> parse_list(const std::string& text) {
  std::set<int> out;
  std::istringstream in(text);
  for (int n; in >> n;) out.insert(n);
  return out;
}

// The read-back text of the numbers first..last, restart_syscall left out
// when `skip_restart` (a deny file never lists it).
std::string list_text(int first, int last, bool skip_restart = true) {
  std::string out;
  for (int n = first; n <= last; ++n) {
    if (skip_restart && n == kRestartSyscall) continue;
    if (!out.empty()) out += ' ';
    out += std::to_string(n);
  }
  return out + "\n";
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto all = lines(text);
  return std::find(all.begin(), all.end(), line) != all.end();
}

// A `sleep 100` started by the test itself (optionally as user nobody), in
// no group; killed and reaped when it goes out of scope.
class Sleeper {
 public:
  explicit Sleeper(bool as_nobody = false)
      : child_(as_nobody ? std::vector<std::string>{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                                    "--clear-groups", "/bin/sleep", "100"}
                         : std::vector<std::string>{"/bin/sleep", "100"}) {
    // Wait for the exec, so that the pid names `sleep` with its final uid.
    const std::string comm = "/proc/" + std::to_string(child_.pid()) + "/comm";
    EXPECT_TRUE(eventually([&] { return slurp(comm) == "sleep\n"; })) << "sleep did not start";
  }
  pid_t pid() const { return child_.pid(); }
  std::string id() const { return std::to_string(child_.pid()); }
  // Kills and reaps it now.
  void end() {
    child_.kill(SIGKILL);
    EXPECT_GE(child_.wait_for(10s), 0) << "sleep " << pid() << " did not end";
  }

 private:
  Child child_;
};

// A file path outside the mount, removed on destruction.
class TempPath {
 public:
  explicit TempPath(const std::string& path) : path_(path) {}
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Gives `sig` its default disposition (and unblocks it) while in scope, so a
// daemon started meanwhile installs its handler for it even when this test
// runner was started with the signal ignored (libfuse leaves ignored signals
// alone, and exec keeps them ignored).
class DefaultDisposition {
 public:
  explicit DefaultDisposition(int sig) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig_, &sa, &old_action_);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_);
    sigprocmask(SIG_UNBLOCK, &set, &old_mask_);
  }
  DefaultDisposition(const DefaultDisposition&) = delete;
  DefaultDisposition& operator=(const DefaultDisposition&) = delete;
  ~DefaultDisposition() {
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(sig_, &old_action_, nullptr);
  }

 private:
  int sig_;
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
};

// Prints "before <events>", then per round "ready N", polls for POLLPRI with
// the timeout, prints "woke" or "timeout" and "after <events>" (re-read at 0).
constexpr const char* kPollScript = R"PY(
import os, select, sys
path, timeout, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
print("before", os.read(fd, 100).decode().strip(), flush=True)
p = select.poll()
p.register(fd, select.POLLPRI)
for n in range(1, rounds + 1):
    print("ready", n, flush=True)
    events = p.poll(timeout)
    woke = any(e & select.POLLPRI for _, e in events)
    print("woke" if woke else "timeout", flush=True)
    print("after", os.pread(fd, 100, 0).decode().strip(), flush=True)
)PY";

// ---------------------------------------------------------------------------

class SyscgfsTest : public MountedTest {
 protected:
  // Runs the script with bash (Mount::sh uses /bin/sh, whose echo reports
  // every write error as "I/O error") in the mount.
  RunResult bash(const std::string& script) { return sh("exec bash -c " + quote(script)); }

  // Runs the script in the mount, expects it to succeed, returns its output.
  std::string ok(const std::string& script) {
    auto r = bash(script);
    EXPECT_EQ(r.status, 0) << "script: " << script << "\noutput: " << r.output;
    return r.output;
  }
  // Runs the script in the mount, expects it to fail with strerror(error) in
  // its output (the tools print it: "mkdir: ...: File exists").
  void expect_fails(const std::string& script, int error) {
    auto r = bash(script);
    EXPECT_NE(r.status, 0) << "script: " << script << "\noutput: " << r.output;
    EXPECT_NE(r.output.find(std::strerror(error)), std::string::npos)
        << "script: " << script << "\nexpected: " << std::strerror(error) << "\noutput: " << r.output;
  }
  std::string cat(const std::string& rel) { return ok("cat " + rel); }
  // Runs python3 -c with `code` (the system's python3: a version manager's
  // shim in PATH may take a second to start).
  std::string python(const std::string& code) { return ok("/usr/bin/python3 -c " + quote(code)); }
  // Runs the script as user nobody (group nogroup, no supplementary groups).
  RunResult as_nobody(const std::string& script) {
    return sh("setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c " + quote(script));
  }

  // Starts kPollScript on `rel` (a cgroup.events) with its output in a log.
  std::unique_ptr<Child> start_poller(const TempPath& log, const std::string& rel, int timeout_ms, int rounds) {
    return std::make_unique<Child>(std::vector<std::string>{"/usr/bin/python3", "-c", kPollScript,
                                                            mount_->path(rel), std::to_string(timeout_ms),
                                                            std::to_string(rounds)},
                                   log.path());
  }
  static bool wait_for_line(const TempPath& log, const std::string& line) {
    return eventually([&] { return has_line(slurp(log.path()), line); });
  }

  // Remounts with `sig` at its default disposition, sends it to the daemon,
  // and expects a clean unmount and exit status 0.
  void expect_signal_unmounts(int sig) {
    {
      DefaultDisposition guard(sig);
      mount_.reset();
      mount_ = std::make_unique<Mount>();
    }
    const std::string dir = mount_->dir();
    EXPECT_EQ(ok("mkdir g && echo 59 > g/syscalls.deny && cat g/syscalls.deny"), "59\n");
    ASSERT_EQ(::kill(mount_->daemon_pid(), sig), 0);
    EXPECT_EQ(mount_->daemon().wait_for(10s), 0) << "syscgfs should exit with status 0 after " << strsignal(sig);
    EXPECT_FALSE(mounted(dir)) << dir << " is still mounted after " << strsignal(sig);
    EXPECT_FALSE(is_mount_point(dir));
    EXPECT_EQ(mount_->log_errors(), "");
    mount_.reset();  // the fixture's cleanup still works
    EXPECT_FALSE(mounted(dir));
    EXPECT_FALSE(exists(dir));
  }

};

TEST_F(SyscgfsTest, MkdirDenyReadRmdir) {
  EXPECT_EQ(sh("mkdir web && echo 59 > web/syscalls.deny && cat web/syscalls.deny").output, "59\n");
  auto r = sh("echo 59 > web/php 2>&1; mkdir web/php && echo 59 > web/php/syscalls.allow");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("Operation not permitted"), std::string::npos) << r.output;
  EXPECT_EQ(sh("rmdir web/php && rmdir web").status, 0);
}

// ---------------------------------------------------------------------------
// The tree

TEST_F(SyscgfsTest, RootAndGroupsHoldTheirControlFiles) {
  const std::string cgroup_files = "cgroup.max.depth\ncgroup.max.descendants\ncgroup.procs\ncgroup.stat\n";
  const std::string syscalls_files =
      "syscalls.allow\nsyscalls.denied\nsyscalls.deny\nsyscalls.stricter\nsyscalls.warnings\n";
  const std::string root_files = cgroup_files + syscalls_files;
  EXPECT_EQ(ok("LC_ALL=C ls -A"), root_files);
  ok("mkdir web && mkdir web/php");
  EXPECT_EQ(ok("LC_ALL=C ls -A"), root_files + "web\n");
  EXPECT_EQ(ok("LC_ALL=C ls -A web"), "cgroup.events\n" + cgroup_files + "php\n" + syscalls_files);
  EXPECT_EQ(ok("LC_ALL=C ls -A web/php"), "cgroup.events\n" + root_files);
  // The root has no cgroup.events.
  expect_fails("cat cgroup.events", ENOENT);
  EXPECT_EQ(cat("web/cgroup.events"), "populated 0\n");
  EXPECT_EQ(cat("web/php/cgroup.events"), "populated 0\n");
  // Default contents.
  EXPECT_EQ(cat("syscalls.allow"), list_text(0, kWidth - 1, false));
  EXPECT_EQ(cat("syscalls.deny"), "\n");
  EXPECT_EQ(cat("web/php/syscalls.allow"), list_text(0, kWidth - 1, false));
  EXPECT_EQ(cat("web/php/syscalls.deny"), "\n");
  EXPECT_EQ(cat("cgroup.max.depth"), "max\n");
  EXPECT_EQ(cat("web/cgroup.max.descendants"), "max\n");
  EXPECT_EQ(cat("web/cgroup.procs"), "");
}

TEST_F(SyscgfsTest, CgroupStatCountsDescendantsAndMembers) {
  EXPECT_EQ(cat("cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  ok("mkdir a a/b a/b/c d");
  EXPECT_EQ(cat("cgroup.stat"), "nr_descendants 4\nnr_members 0\n");
  EXPECT_EQ(cat("a/cgroup.stat"), "nr_descendants 2\nnr_members 0\n");
  EXPECT_EQ(cat("a/b/c/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  Sleeper s1, s2;
  ok("echo " + s1.id() + " > a/b/cgroup.procs && echo " + s2.id() + " > a/b/cgroup.procs");
  EXPECT_EQ(cat("a/b/cgroup.stat"), "nr_descendants 1\nnr_members 2\n");
  EXPECT_EQ(cat("a/cgroup.stat"), "nr_descendants 2\nnr_members 0\n");
  ok("rmdir a/b/c");
  EXPECT_EQ(cat("a/cgroup.stat"), "nr_descendants 1\nnr_members 0\n");
  s1.end();
  s2.end();
}

// ---------------------------------------------------------------------------
// mkdir / rmdir

TEST_F(SyscgfsTest, MkdirErrors) {
  ok("mkdir web");
  expect_fails("mkdir web", EEXIST);
  expect_fails("mkdir cgroup.procs", EEXIST);  // a control file's name
  expect_fails("mkdir web/cgroup.stat", EEXIST);
  // Reserved prefixes and invalid names.
  expect_fails("mkdir cgroup.foo", EINVAL);
  expect_fails("mkdir syscalls.x", EINVAL);
  expect_fails("mkdir web/cgroup.", EINVAL);
  EXPECT_EQ(python(R"(
import errno, os
try:
    os.mkdir("bad\nname")
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno]))"),
            "EINVAL\n");
  // A missing parent.
  expect_fails("mkdir nothere/x", ENOENT);
  // Nothing was created by the failures.
  EXPECT_EQ(ok("LC_ALL=C ls -A | grep -v '^cgroup\\.' | grep -v '^syscalls\\.'"), "web\n");
  EXPECT_EQ(ok("LC_ALL=C ls -A web | grep -v '^cgroup\\.' | grep -v '^syscalls\\.'; true"), "");
}

TEST_F(SyscgfsTest, MkdirBeyondMaxDepthIsEagain) {
  ok("mkdir web");
  ok("echo 0 > web/cgroup.max.depth");
  EXPECT_EQ(cat("web/cgroup.max.depth"), "0\n");
  expect_fails("mkdir web/x", EAGAIN);
  ok("echo 1 > web/cgroup.max.depth && mkdir web/x");
  expect_fails("mkdir web/x/y", EAGAIN);
  // An ancestor's limit counts too.
  ok("echo 2 > cgroup.max.depth");
  expect_fails("mkdir web/x/y", EAGAIN);
  ok("echo max > web/cgroup.max.depth && echo max > cgroup.max.depth && mkdir web/x/y");
  // A negative limit is out of range and changes nothing.
  expect_fails("echo -1 > web/cgroup.max.depth", ERANGE);
  EXPECT_EQ(cat("web/cgroup.max.depth"), "max\n");
}

TEST_F(SyscgfsTest, MkdirBeyondMaxDescendantsIsEagain) {
  ok("mkdir web");
  ok("echo 0 > web/cgroup.max.descendants");
  expect_fails("mkdir web/a", EAGAIN);
  ok("echo 2 > web/cgroup.max.descendants");
  ok("mkdir web/a web/a/b");
  expect_fails("mkdir web/c", EAGAIN);
  expect_fails("mkdir web/a/c", EAGAIN);
  EXPECT_EQ(cat("web/cgroup.max.descendants"), "2\n");
  EXPECT_EQ(cat("web/cgroup.stat"), "nr_descendants 2\nnr_members 0\n");
  // The root's limit applies to the whole tree.
  ok("echo 3 > cgroup.max.descendants");
  expect_fails("mkdir other", EAGAIN);
  ok("rmdir web/a/b && mkdir other");
}

TEST_F(SyscgfsTest, RmdirErrors) {
  ok("mkdir web web/php");
  expect_fails("rmdir web", EBUSY);  // a child group
  expect_fails("rmdir nothere", ENOENT);
  expect_fails("rmdir web/nothere", ENOENT);
  {
    Sleeper s;
    ok("echo " + s.id() + " > web/php/cgroup.procs");
    expect_fails("rmdir web/php", EBUSY);  // a member
    ok("test -d web/php");
    s.end();
  }
  ok("rmdir web/php && rmdir web");
  EXPECT_EQ(ok("test -e web; echo $?"), "1\n");
}

TEST_F(SyscgfsTest, RegularFilesCannotBeCreated) {
  ok("mkdir web");
  expect_fails("touch newfile", EPERM);
  expect_fails("echo > newfile", EPERM);
  expect_fails("touch web/newfile", EPERM);
  expect_fails("echo 59 > web/newfile", EPERM);
  EXPECT_EQ(ok("test -e newfile; echo $?"), "1\n");
  EXPECT_EQ(ok("test -e web/newfile; echo $?"), "1\n");
}

TEST_F(SyscgfsTest, ControlFilesCannotBeRemovedOrRenamed) {
  ok("mkdir web web/php");
  expect_fails("rm web/cgroup.procs", EPERM);
  expect_fails("rm -f web/syscalls.deny", EPERM);
  expect_fails("rm syscalls.allow", EPERM);
  expect_fails("mv web/syscalls.deny web/syscalls.x", EPERM);
  expect_fails("mv web/cgroup.procs web/php/cgroup.procs", EPERM);
  expect_fails("mv cgroup.stat stat", EPERM);
  EXPECT_EQ(ok("LC_ALL=C ls -A web"),
            "cgroup.events\ncgroup.max.depth\ncgroup.max.descendants\ncgroup.procs\ncgroup.stat\n"
            "php\nsyscalls.allow\nsyscalls.denied\nsyscalls.deny\nsyscalls.stricter\nsyscalls.warnings\n");
  ok("test -f syscalls.allow && test -f cgroup.stat && test ! -e stat");
}

TEST_F(SyscgfsTest, GroupsRenameWithinTheirParentOnly) {
  ok("mkdir a a/x other && echo 59 > a/syscalls.deny");
  ok("mv a b");
  EXPECT_EQ(ok("test -e a; echo $?"), "1\n");
  EXPECT_EQ(cat("b/syscalls.deny"), "59\n");      // the policy travels with the group
  EXPECT_EQ(cat("b/x/syscalls.deny"), "59\n");    // and so do its children
  ok("mv b/x b/y && test -d b/y");
  // Across parents: refused, nothing moves.
  expect_fails("mv b other/b", EPERM);
  expect_fails("mv b/y y", EPERM);
  ok("test -d b && test -d b/y && test ! -e other/b && test ! -e y");
}

// ---------------------------------------------------------------------------
// Files like kernfs: uncached snapshot reads, one-command writes

TEST_F(SyscgfsTest, ReadsServeTheSameSnapshotAtAnyOffset) {
  ok("mkdir g && echo 100-499 > g/syscalls.deny");
  const std::string expected = list_text(100, 499);
  ASSERT_GT(expected.size(), 1000U);
  EXPECT_EQ(cat("g/syscalls.deny"), expected);
  EXPECT_EQ(ok("head -c 5 g/syscalls.deny"), expected.substr(0, 5));
  EXPECT_EQ(ok("dd if=g/syscalls.deny bs=1 status=none"), expected);
  EXPECT_EQ(ok("dd if=g/syscalls.deny bs=7 skip=3 status=none"), expected.substr(21));
  EXPECT_EQ(python(R"(
import sys
sys.stdout.write(open("g/syscalls.deny").read()))"),
            expected);
  // pread in 7-byte pieces at increasing offsets, then single probes.
  EXPECT_EQ(python(R"(
import os, sys
fd = os.open("g/syscalls.deny", os.O_RDONLY)
parts, off = [], 0
while True:
    b = os.pread(fd, 7, off)
    if not b:
        break
    parts.append(b)
    off += len(b)
sys.stdout.write(b"".join(parts).decode()))"),
            expected);
  EXPECT_EQ(python(R"(
import os, sys
fd = os.open("g/syscalls.deny", os.O_RDONLY)
sys.stdout.write(os.pread(fd, 10, 5).decode() + "|" + os.pread(fd, 3, 0).decode() + "|" +
                 os.pread(fd, 100, 100000).decode() + "|"))"),
            expected.substr(5, 10) + "|" + expected.substr(0, 3) + "||");
}

TEST_F(SyscgfsTest, ReadsAreUncachedAndServeSnapshots) {
  ok("mkdir g");
  // Every cat sees the current state (a page cache would serve stale text,
  // and a size-0 file would read empty).
  EXPECT_EQ(ok("cat g/syscalls.deny; echo 7 > g/syscalls.deny; cat g/syscalls.deny; "
               "echo 8 > g/syscalls.deny; cat g/syscalls.deny"),
            "\n7\n7 8\n");
  // One open file: a reader continuing at an offset keeps its snapshot; a
  // read at offset 0 takes a new one.
  EXPECT_EQ(python(R"(
import os, subprocess, sys
fd = os.open("g/syscalls.deny", os.O_RDONLY)
head = os.pread(fd, 2, 0)
subprocess.run(["bash", "-c", "echo 100-105 > g/syscalls.deny"], check=True)
tail = os.pread(fd, 100, 2)
fresh = os.pread(fd, 100, 0)
sys.stdout.write((head + tail).decode() + "|" + fresh.decode()))"),
            "7 8\n|7 8 100 101 102 103 104 105\n");
}

TEST_F(SyscgfsTest, WriteOfMoreThan4096BytesIsE2big) {
  ok("mkdir g && echo 3 > g/syscalls.deny");
  EXPECT_EQ(python(R"(
import errno, os
fd = os.open("g/syscalls.deny", os.O_WRONLY)
try:
    os.write(fd, b"1 " * 2048 + b"2")
    print("accepted")
except OSError as e:
    print(errno.errorcode[e.errno]))"),
            "E2BIG\n");
  EXPECT_EQ(cat("g/syscalls.deny"), "3\n");
  // Exactly 4096 bytes is one command, accepted.
  EXPECT_EQ(python(R"(
import os
fd = os.open("g/syscalls.deny", os.O_WRONLY)
print(os.write(fd, b"5 " * 2048)))"),
            "4096\n");
  EXPECT_EQ(cat("g/syscalls.deny"), "3 5\n");
}

TEST_F(SyscgfsTest, CoreErrorsReachWriteAndChangeNothing) {
  ok("mkdir p p/c && echo 3 > p/c/syscalls.deny");
  expect_fails("echo foo > p/c/syscalls.deny", EINVAL);
  expect_fails("echo 5 foo > p/c/syscalls.deny", EINVAL);  // all or nothing
  expect_fails("echo 1,,2 > p/c/syscalls.deny", EINVAL);
  expect_fails("echo 219 > p/c/syscalls.deny", EINVAL);     // restart_syscall
  expect_fails("echo 10-5 > p/c/syscalls.deny", EINVAL);
  expect_fails("echo 512 > p/c/syscalls.deny", ERANGE);
  expect_fails("echo 5 512 > p/c/syscalls.deny", ERANGE);
  expect_fails("echo foo > p/c/syscalls.allow", EINVAL);
  expect_fails("echo 512 > p/c/syscalls.allow", ERANGE);
  EXPECT_EQ(cat("p/c/syscalls.deny"), "3\n");
  // Allow beyond the parent.
  ok("echo 59 > p/syscalls.deny");
  EXPECT_EQ(cat("p/c/syscalls.deny"), "3 59\n");  // deny propagates
  expect_fails("echo 59 > p/c/syscalls.allow", EPERM);
  expect_fails("echo 3 59 > p/c/syscalls.allow", EPERM);  // all or nothing
  EXPECT_EQ(cat("p/c/syscalls.deny"), "3 59\n");
  EXPECT_EQ(cat("p/syscalls.deny"), "59\n");
  // A legal allow still works afterwards; allow does not propagate.
  ok("echo 59 > p/syscalls.allow && echo 3 > p/c/syscalls.allow");
  EXPECT_EQ(cat("p/c/syscalls.deny"), "59\n");
  // Limits: garbage and negatives.
  expect_fails("echo lots > p/cgroup.max.depth", EINVAL);
  expect_fails("echo -3 > p/cgroup.max.descendants", ERANGE);
  EXPECT_EQ(cat("p/cgroup.max.depth"), "max\n");
  EXPECT_EQ(cat("p/cgroup.max.descendants"), "max\n");
}

// ---------------------------------------------------------------------------
// stat: modes, owners, link counts

TEST_F(SyscgfsTest, StatShowsModesOwnersAndLinkCounts) {
  ok("mkdir a b a/x");
  const auto st = [&](const std::string& rel) { return ok("stat -c '%A %U %G %h' " + rel); };
  EXPECT_EQ(st("."), "drwxr-xr-x root root 4\n");  // 2 + a, b
  EXPECT_EQ(st("a"), "drwxr-xr-x root root 3\n");  // 2 + x
  EXPECT_EQ(st("b"), "drwxr-xr-x root root 2\n");
  EXPECT_EQ(st("a/x"), "drwxr-xr-x root root 2\n");
  for (const char* f : {"syscalls.allow", "syscalls.deny", "cgroup.procs", "cgroup.max.depth",
                        "cgroup.max.descendants"})
    EXPECT_EQ(st(std::string("a/") + f), "-rw-r--r-- root root 1\n") << f;
  EXPECT_EQ(st("a/cgroup.stat"), "-r--r--r-- root root 1\n");
  EXPECT_EQ(st("a/cgroup.events"), "-r--r--r-- root root 1\n");
  // The root: its policy files are read-only, the rest as in any group.
  EXPECT_EQ(st("syscalls.allow"), "-r--r--r-- root root 1\n");
  EXPECT_EQ(st("syscalls.deny"), "-r--r--r-- root root 1\n");
  EXPECT_EQ(st("cgroup.stat"), "-r--r--r-- root root 1\n");
  for (const char* f : {"cgroup.procs", "cgroup.max.depth", "cgroup.max.descendants"})
    EXPECT_EQ(st(f), "-rw-r--r-- root root 1\n") << f;
  ok("rmdir a/x");
  EXPECT_EQ(st("a"), "drwxr-xr-x root root 2\n");
}

TEST_F(SyscgfsTest, RootPolicyIsReadOnlyEvenForRoot) {
  expect_fails("echo 1 > syscalls.deny", EPERM);
  expect_fails("echo 1 > syscalls.allow", EPERM);
  expect_fails("echo a >> syscalls.deny", EPERM);
  EXPECT_EQ(cat("syscalls.deny"), "\n");
  EXPECT_EQ(cat("syscalls.allow"), list_text(0, kWidth - 1, false));
  // Read-only files stay unchanged for root too.
  ok("mkdir g");
  EXPECT_NE(bash("echo 1 > g/cgroup.stat").status, 0);
  EXPECT_NE(bash("echo populated 1 > g/cgroup.events").status, 0);
  EXPECT_EQ(cat("g/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  EXPECT_EQ(cat("g/cgroup.events"), "populated 0\n");
}

// ---------------------------------------------------------------------------
// cgroup.procs

TEST_F(SyscgfsTest, WritingAPidMakesItAMember) {
  ok("mkdir a b");
  Sleeper s1, s2;
  ok("echo " + s1.id() + " > a/cgroup.procs");
  EXPECT_EQ(cat("a/cgroup.procs"), s1.id() + "\n");
  EXPECT_EQ(cat("a/cgroup.events"), "populated 1\n");
  ok("echo " + s2.id() + " > a/cgroup.procs");
  EXPECT_EQ(parse_list(cat("a/cgroup.procs")), (std::set<int>{s1.pid(), s2.pid()}));
  // Writing again is harmless; moving takes it out of the old group.
  ok("echo " + s1.id() + " > a/cgroup.procs");
  ok("echo " + s1.id() + " > b/cgroup.procs");
  EXPECT_EQ(cat("a/cgroup.procs"), s2.id() + "\n");
  EXPECT_EQ(cat("b/cgroup.procs"), s1.id() + "\n");
  // A shell's background job, killed by the shell itself.
  const auto out = ok("sleep 100 >/dev/null 2>&1 & S=$!; trap 'kill $S' EXIT; echo $S > b/cgroup.procs && "
                      "cat b/cgroup.procs && echo job=$S");
  const auto l = lines(out);
  ASSERT_EQ(l.size(), 3U) << out;
  EXPECT_EQ(l[2].substr(0, 4), "job=");
  EXPECT_TRUE(has_line(out, l[2].substr(4))) << out;
  EXPECT_TRUE(has_line(out, s1.id())) << out;
  s1.end();
  s2.end();
}

TEST_F(SyscgfsTest, WritingZeroMovesTheWriter) {
  ok("mkdir g");
  const auto out = ok("bash -c 'echo 0 > g/cgroup.procs; cat g/cgroup.procs; echo self=$$'");
  const auto l = lines(out);
  ASSERT_FALSE(l.empty()) << out;
  ASSERT_EQ(l.back().substr(0, 5), "self=") << out;
  const std::string self = l.back().substr(5);
  EXPECT_TRUE(has_line(out.substr(0, out.size() - l.back().size() - 1), self))
      << "cgroup.procs should list the writing bash " << self << ":\n" << out;
  // The writer has exited since.
  EXPECT_EQ(cat("g/cgroup.procs"), "");
  ok("rmdir g");
}

TEST_F(SyscgfsTest, AThreadIdMovesItsWholeProcess) {
  ok("mkdir g");
  const auto out = python(R"(
import os, threading
ready, done = threading.Event(), threading.Event()
tid = []
def run():
    tid.append(threading.get_native_id())
    ready.set()
    done.wait()
t = threading.Thread(target=run)
t.start()
ready.wait()
assert tid[0] != os.getpid()
with open("g/cgroup.procs", "w") as f:
    f.write(str(tid[0]))
print(open("g/cgroup.procs").read().strip() == str(os.getpid()))
done.set()
t.join())");
  EXPECT_EQ(out, "True\n");
  EXPECT_EQ(cat("g/cgroup.procs"), "");  // exited
}

TEST_F(SyscgfsTest, ProcsWriteErrors) {
  ok("mkdir g");
  expect_fails("echo $(( $(cat /proc/sys/kernel/pid_max) + 1 )) > g/cgroup.procs", ESRCH);
  expect_fails("echo abc > g/cgroup.procs", EINVAL);
  expect_fails("echo -5 > g/cgroup.procs", EINVAL);
  expect_fails("echo > g/cgroup.procs", EINVAL);
  expect_fails("echo 2 > g/cgroup.procs", EINVAL);  // kthreadd, a kernel thread
  EXPECT_EQ(ok("cat /proc/2/comm"), "kthreadd\n");
  EXPECT_EQ(cat("g/cgroup.procs"), "");
  EXPECT_EQ(cat("g/cgroup.events"), "populated 0\n");
  EXPECT_EQ(cat("g/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
}

TEST_F(SyscgfsTest, ExitedMembersLeaveAndNoLongerBlockRmdir) {
  ok("mkdir g h");
  Sleeper s1, s2;
  ok("echo " + s1.id() + " > g/cgroup.procs && echo " + s2.id() + " > h/cgroup.procs");
  expect_fails("rmdir g", EBUSY);
  expect_fails("rmdir h", EBUSY);
  s1.end();
  s2.end();
  EXPECT_EQ(cat("g/cgroup.procs"), "");
  EXPECT_EQ(cat("g/cgroup.stat"), "nr_descendants 0\nnr_members 0\n");
  ok("rmdir g");
  ok("rmdir h");  // without a read of its cgroup.procs first
}

// ---------------------------------------------------------------------------
// Concurrent writers

TEST_F(SyscgfsTest, ConcurrentWritersKeepEveryGroupWithinItsParent) {
  const std::vector<std::string> groups{"a", "a/b", "a/b/c", "a/d", "a/d/e", "f", "f/g", "f/g/h", "f/i"};
  std::string all;
  for (const auto& g : groups) all += " " + g;
  ok("mkdir" + all);
  // 8 writers, 300 random commands each; refusals (EPERM) are expected.
  const auto r = bash("for w in 1 2 3 4 5 6 7 8; do bash -c '"
                    "groups=(" + all + ");"
                    "for i in $(seq 300); do"
                    "  g=${groups[RANDOM % ${#groups[@]}]};"
                    "  n=$((RANDOM % 48));"
                    "  if ((RANDOM % 4 == 0)); then n=\"$n-$((n + RANDOM % 16))\"; fi;"
                    "  if ((RANDOM % 2)); then f=allow; else f=deny; fi;"
                    "  echo \"$n\" 2>/dev/null > $g/syscalls.$f;"
                    "done' & done; wait; echo done");
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_EQ(r.output, "done\n");
  std::map<std::string, std::set<int>> allowed;
  allowed[""] = parse_list(cat("syscalls.allow"));
  EXPECT_EQ(allowed[""].size(), static_cast<std::size_t>(kWidth));
  bool some_denied = false;
  for (const auto& g : groups) {
    allowed[g] = parse_list(cat(g + "/syscalls.allow"));
    const auto denied = parse_list(cat(g + "/syscalls.deny"));
    some_denied = some_denied || !denied.empty();
    // allow and deny partition 0..511.
    for (int n = 0; n < kWidth; ++n)
      EXPECT_NE(allowed[g].contains(n), denied.contains(n)) << g << ": " << n;
    EXPECT_TRUE(allowed[g].contains(kRestartSyscall)) << g;
  }
  EXPECT_TRUE(some_denied);
  for (const auto& g : groups) {
    const auto slash = g.rfind('/');
    const std::string parent = slash == std::string::npos ? "" : g.substr(0, slash);
    for (int n : allowed[g])
      EXPECT_TRUE(allowed[parent].contains(n)) << g << " allows " << n << " but its parent '" << parent
                                               << "' does not";
  }
}

// ---------------------------------------------------------------------------
// poll on cgroup.events

TEST_F(SyscgfsTest, PollOnEventsWakesWhenPopulatedChanges) {
  ok("mkdir g h");
  TempPath log(mount_->dir() + ".poll");
  auto poller = start_poller(log, "g/cgroup.events", 5000, 2);
  ASSERT_TRUE(wait_for_line(log, "ready 1")) << slurp(log.path());
  Sleeper s;
  ok("echo " + s.id() + " > g/cgroup.procs");
  ASSERT_TRUE(wait_for_line(log, "ready 2")) << slurp(log.path());
  ok("echo " + s.id() + " > h/cgroup.procs");  // g becomes empty again
  EXPECT_EQ(poller->wait_for(20s), 0);
  EXPECT_EQ(slurp(log.path()),
            "before populated 0\nready 1\nwoke\nafter populated 1\nready 2\nwoke\nafter populated 0\n");
  s.end();
}

TEST_F(SyscgfsTest, PollOnAncestorEventsWakesForADescendant) {
  ok("mkdir p p/c");
  TempPath log(mount_->dir() + ".poll");
  auto poller = start_poller(log, "p/cgroup.events", 5000, 1);
  ASSERT_TRUE(wait_for_line(log, "ready 1")) << slurp(log.path());
  Sleeper s;
  ok("echo " + s.id() + " > p/c/cgroup.procs");
  EXPECT_EQ(poller->wait_for(20s), 0);
  EXPECT_EQ(slurp(log.path()), "before populated 0\nready 1\nwoke\nafter populated 1\n");
  s.end();
}

TEST_F(SyscgfsTest, PollOnEventsTimesOutWithoutAChange) {
  ok("mkdir g other");
  TempPath log(mount_->dir() + ".poll");
  auto poller = start_poller(log, "g/cgroup.events", 1000, 1);
  ASSERT_TRUE(wait_for_line(log, "ready 1")) << slurp(log.path());
  // Unrelated activity does not wake it.
  Sleeper s;
  ok("echo " + s.id() + " > other/cgroup.procs && echo 5 > g/syscalls.deny");
  EXPECT_EQ(poller->wait_for(20s), 0);
  EXPECT_EQ(slurp(log.path()), "before populated 0\nready 1\ntimeout\nafter populated 0\n");
  s.end();
}

// ---------------------------------------------------------------------------
// Permissions and delegation

TEST_F(SyscgfsTest, OtherUsersCannotWriteRootOwnedGroups) {
  ok("mkdir web");
  auto r = as_nobody("echo 5 > web/syscalls.deny");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_EQ(cat("web/syscalls.deny"), "\n");
  r = as_nobody("mkdir web/sub");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  Sleeper mine(true);
  r = as_nobody("echo " + mine.id() + " > web/cgroup.procs");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_EQ(cat("web/cgroup.procs"), "");
  // Reading is fine.
  r = as_nobody("cat web/syscalls.deny web/cgroup.stat");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "\nnr_descendants 0\nnr_members 0\n");
  ok("test ! -e web/sub");
  mine.end();
}

TEST_F(SyscgfsTest, DelegatedGroupLetsItsOwnerManageItsSubtree) {
  ok("mkdir web && chown nobody:nogroup web web/cgroup.procs web/syscalls.deny web/syscalls.allow");
  EXPECT_EQ(ok("stat -c '%U %G' web web/cgroup.procs"), "nobody nogroup\nnobody nogroup\n");
  Sleeper mine(true);  // nobody's own process
  Sleeper roots;       // root's
  ok("echo " + mine.id() + " > web/cgroup.procs && echo " + roots.id() + " > web/cgroup.procs");

  auto r = as_nobody("mkdir web/sub && echo 7 > web/sub/syscalls.deny && cat web/sub/syscalls.deny");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "7\n");
  EXPECT_EQ(ok("stat -c '%U %G' web/sub web/sub/cgroup.procs web/sub/syscalls.deny"),
            "nobody nogroup\nnobody nogroup\nnobody nogroup\n");
  // Its own process: accepted.
  r = as_nobody("echo " + mine.id() + " > web/sub/cgroup.procs && cat web/sub/cgroup.procs");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, mine.id() + "\n");
  // Root's process: refused, it stays where it was.
  r = as_nobody("echo " + roots.id() + " > web/sub/cgroup.procs");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  EXPECT_EQ(cat("web/cgroup.procs"), roots.id() + "\n");
  EXPECT_EQ(cat("web/sub/cgroup.procs"), mine.id() + "\n");
  // Outside the delegation nothing changed for nobody.
  r = as_nobody("mkdir other");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(std::strerror(EACCES)), std::string::npos) << r.output;
  mine.end();
  roots.end();
  ok("rmdir web/sub && rmdir web");
}

// ---------------------------------------------------------------------------
// The daemon's lifetime

TEST_F(SyscgfsTest, KilledDaemonLeavesTransportEndpointNotConnected) {
  ok("mkdir g");
  const std::string dir = mount_->dir();
  ASSERT_EQ(::kill(mount_->daemon_pid(), SIGKILL), 0);
  EXPECT_EQ(mount_->daemon().wait_for(10s), 128 + SIGKILL);
  // Outside the mount: the fixture's sh would cd into it first.
  for (const std::string& script : {"cat '" + dir + "/g/cgroup.procs'", "ls '" + dir + "'",
                                    "mkdir '" + dir + "/x'", "echo 5 > '" + dir + "/g/syscalls.deny'"}) {
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

void expect_one_error_line(const RunResult& r, const std::string& what) {
  EXPECT_NE(r.status, 0) << what;
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

TEST(SyscgfsCliTest, NoMountpointIsOneLineError) {
  expect_one_error_line(run_syscgfs_stderr(""), "no mountpoint");
}

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
}  // namespace syscg::test
