// Integration tests of `syscg record -- CMD` (enforcer/recorder.h,
// enforcer/cli/cmd_record.cc): the calls of real commands and their
// descendants, counted by the real kernel's seccomp through ptrace; exit
// statuses; the suggested policy, written to a real mount's group, lets the
// same command run there (the round trip). The tracer is always the syscg
// process the test starts (never the test itself); every command runs under
// timeout(1), so a hang is a failure, not a stuck test.
#include "core/grammar.h"
#include "core/syscall_set.h"
#include "tests/support/enforcer_fixture.h"

#include <gtest/gtest.h>

#include <sys/syscall.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

namespace syscg::test {
namespace {

const std::string kTimeout = "timeout -s KILL 60 ";

struct Report {
  std::map<unsigned, std::uint64_t> counts;  // NR -> COUNT
  std::map<unsigned, std::string> names;     // NR -> NAME
  std::string header, deny_line, ranges, group;
  std::vector<std::string> comments;  // the '#' lines other than header and "# deny everything else:"
};

// Parses the text report; fails the test on a line out of the format.
Report parse(const std::string& text) {
  Report r;
  std::istringstream in(text);
  std::string line;
  bool table = false, policy = false;
  while (std::getline(in, line)) {
    if (line.starts_with("# system calls of ")) {
      r.header = line;
      table = true;
      continue;
    }
    if (!table) continue;  // the command's own output, when it shares stdout
    if (line.empty()) {
      policy = true;
      continue;
    }
    if (line.starts_with("echo '")) {
      r.deny_line = line;
      const auto close = line.find('\'', 6);
      r.ranges = line.substr(6, close - 6);
      const auto gt = line.find(" > ");
      r.group = line.substr(gt + 3, line.rfind("/syscalls.deny") - gt - 3);
      EXPECT_TRUE(line.ends_with("/syscalls.deny")) << line;
      continue;
    }
    if (line.starts_with("#")) {
      if (line != "# deny everything else:") r.comments.push_back(line);
      continue;
    }
    EXPECT_FALSE(policy) << "a table line after the blank line: " << line;
    std::istringstream words(line);
    std::string name;
    unsigned nr = 0;
    std::uint64_t count = 0;
    EXPECT_TRUE(static_cast<bool>(words >> name >> nr >> count)) << line;
    EXPECT_TRUE(r.counts.empty() || r.counts.rbegin()->first < nr) << "not ascending: " << line;
    EXPECT_GT(count, 0u) << line;
    r.counts[nr] = count;
    r.names[nr] = name;
  }
  return r;
}

std::uint64_t count_of(const Report& r, unsigned nr) {
  const auto it = r.counts.find(nr);
  return it == r.counts.end() ? 0 : it->second;
}

bool has_comment(const Report& r, const std::string& part) {
  return std::any_of(r.comments.begin(), r.comments.end(),
                     [&](const std::string& c) { return c.find(part) != std::string::npos; });
}

// A temporary file path, removed on destruction.
struct TempPath {
  TempPath() {
    static int n = 0;
    path = "/tmp/syscg-record-test-" + std::to_string(getpid()) + "-" + std::to_string(++n);
  }
  ~TempPath() { std::remove(path.c_str()); }
  std::string path;
};

struct Recorded {
  int status;
  std::string out, err;  // syscg's stdout (the command's and the report) and stderr
};

// `syscg record ARGS` through /bin/sh (ARGS as shell words), stdout and
// stderr apart.
Recorded record(const std::string& args) {
  TempPath err;
  auto r = test::sh(kTimeout + syscg_binary() + " record " + args + " 2>" + err.path);
  return {r.status, r.output, read_file(err.path)};
}

// The policy's deny set checked against the report: a parseable single
// write below the size limit, naming no number seen and not restart_syscall,
// and naming every other number below 512 (clone excepted when clone3 was
// seen).
void expect_policy_consistent(const Report& r) {
  ASSERT_FALSE(r.ranges.empty()) << r.deny_line;
  EXPECT_LT(r.ranges.size() + 1, grammar::kMaxWrite);
  auto deny = grammar::parse_syscall_list(r.ranges, grammar::ListFile::deny);
  ASSERT_TRUE(deny) << r.ranges;
  EXPECT_FALSE(deny.value().test(kRestartSyscall));
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    if (nr == kRestartSyscall) continue;
    const bool seen = r.counts.contains(nr);
    const bool kept_for_clone3 = nr == SYS_clone && r.counts.contains(SYS_clone3);
    EXPECT_EQ(deny.value().test(nr), !seen && !kept_for_clone3) << nr;
  }
}

TEST(RecordTest, LsMakesTheCallsExpectedOfIt) {
  const auto got = record("-- ls /");
  ASSERT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(got.err, "");
  EXPECT_NE(got.out.find("usr\n"), std::string::npos) << "ls's own output passes through";
  const Report r = parse(got.out);
  EXPECT_NE(r.header.find("ls /"), std::string::npos) << r.header;
  EXPECT_NE(r.header.find("exit status 0"), std::string::npos) << r.header;
  EXPECT_EQ(count_of(r, SYS_execve), 1u);  // the successful exec only
  EXPECT_EQ(r.names.at(SYS_execve), "execve");
  EXPECT_GE(count_of(r, SYS_openat), 1u);
  EXPECT_GE(count_of(r, SYS_getdents64), 1u);
  EXPECT_GE(count_of(r, SYS_write), 1u);
  EXPECT_EQ(count_of(r, SYS_exit_group), 1u);
  EXPECT_EQ(r.names.at(SYS_exit_group), "exit_group");
  EXPECT_EQ(count_of(r, SYS_seccomp), 0u) << "the recorder's own setup is not the command's";
  EXPECT_EQ(count_of(r, SYS_prctl), 0u) << "the recorder's own setup is not the command's";
  EXPECT_EQ(r.group, "GROUP");
  expect_policy_consistent(r);
  EXPECT_TRUE(has_comment(r, "vDSO")) << got.out;
}

TEST(RecordTest, ChildrenOfAPipelineAreCounted) {
  const auto got = record("-o /dev/stdout -- sh -c 'ls / | cat'");
  ASSERT_EQ(got.status, 0) << got.err;
  const Report r = parse(got.out);
  EXPECT_EQ(count_of(r, SYS_execve), 3u);      // sh, ls, cat
  EXPECT_EQ(count_of(r, SYS_exit_group), 3u);  // all three
  EXPECT_GE(count_of(r, SYS_pipe2) + count_of(r, SYS_pipe), 1u);
  EXPECT_GE(count_of(r, SYS_wait4), 1u);
  EXPECT_GE(count_of(r, SYS_getdents64), 1u);  // ls's, a grandchild of the recorder
  expect_policy_consistent(r);
}

// The victim's attack in spirit: children forked and exec'd at once, one
// vforked, threads, a short-lived child; all of it counted exactly. And
// the calls no policy can name, reported apart.
TEST(RecordTest, ForksVforksExecsAndThreadsAreAllCounted) {
  constexpr int kForks = 30;
  TempPath report;
  const auto got = record("-o " + report.path + " -- " + victim_binary() + " spread " + std::to_string(kForks));
  ASSERT_EQ(got.status, 0) << got.err << got.out;
  EXPECT_EQ(std::count(got.out.begin(), got.out.end(), '\n'), kForks + 1) << "only the probes' lines on stdout";
  const Report r = parse(read_file(report.path));
  EXPECT_EQ(count_of(r, SYS_uname), kForks + 1u);
  EXPECT_EQ(count_of(r, SYS_execve), kForks + 2u);  // the victim and each probe
  EXPECT_EQ(count_of(r, SYS_getpgrp), 7u);
  EXPECT_EQ(count_of(r, SYS_getppid), 100u);
  // Entries, as strace counts them: a fork or vfork that a signal meets
  // inside copy_process (here SIGCHLD from the probes exiting) is restarted
  // by the kernel (-ERESTARTNOINTR) and meets the filter twice.
  EXPECT_GE(count_of(r, SYS_vfork), 1u);
  EXPECT_GE(count_of(r, SYS_clone) + count_of(r, SYS_clone3), kForks + 1u + 4u);
  EXPECT_EQ(count_of(r, SYS_exit_group), kForks + 3u);  // the victim, the probes, the getpgrp child
  EXPECT_TRUE(has_comment(r, " 1000x1")) << "numbers >= 512";
  EXPECT_TRUE(has_comment(r, "1 i386 (int 0x80), 1 x32")) << "non-native calls";
  expect_policy_consistent(r);
}

TEST(RecordTest, ExitStatusIsTheCommands) {
  EXPECT_EQ(record("-o /dev/null -- sh -c 'exit 3'").status, 3);
  EXPECT_EQ(record("-o /dev/null -- true").status, 0);
  EXPECT_EQ(record("-o /dev/null -- sh -c 'kill -KILL $$'").status, 128 + SIGKILL);
  EXPECT_EQ(record("-o /dev/null -- sh -c 'kill -TERM $$'").status, 128 + SIGTERM);
  // The report says it too.
  const auto got = record("-- sh -c 'exit 3'");
  EXPECT_EQ(got.status, 3);
  EXPECT_NE(parse(got.out).header.find("exit status 3"), std::string::npos) << got.out;
}

// A command stopped by a signal stays stopped (a group-stop, PTRACE_LISTEN)
// until SIGCONT, then goes on; signals reach their handlers.
TEST(RecordTest, StopsAndSignalsBehaveAsWithoutTheRecorder) {
  auto got = record("-o /dev/null -- sh -c '(sleep 0.2; kill -CONT $$) & kill -STOP $$; echo resumed; wait'");
  EXPECT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(got.out, "resumed\n");
  got = record("-o /dev/null -- sh -c 'trap \"echo caught; exit 5\" USR1; kill -USR1 $$; sleep 5'");
  EXPECT_EQ(got.status, 5) << got.err;
  EXPECT_EQ(got.out, "caught\n");
}

TEST(RecordTest, ReportGoesToTheFileAndTheCommandsOutputIsUntouched) {
  TempPath report;
  const auto got = record("-o " + report.path + " --group web/php -- sh -c 'echo out; echo err >&2'");
  ASSERT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(got.out, "out\n");
  EXPECT_EQ(got.err, "err\n");
  const Report r = parse(read_file(report.path));
  EXPECT_EQ(r.group, "web/php");
  EXPECT_GE(count_of(r, SYS_write), 2u);
}

TEST(RecordTest, UsageAndOwnFailures) {
  struct Case {
    std::string args, mentions;
    int status;
  };
  const std::vector<Case> cases{
      {"", "usage", 2},                                               // no command
      {"--", "usage", 2},                                             // an empty command
      {"--format=xml -- true", "xml", 2},                             // a bad format
      {"--frobnicate -- true", "frobnicate", 2},                      // an unknown option
      {"-- /nonexistent/command", "/nonexistent/command", 1},         // not found
      {"-- syscg-no-such-command", "syscg-no-such-command", 1},       // not found through PATH
      {"-- /etc/passwd", "/etc/passwd", 1},                           // not executable
      {"-o /nonexistent/dir/report -- true", "/nonexistent/dir", 1},  // the report cannot be written
  };
  for (const auto& [args, mentions, status] : cases) {
    SCOPED_TRACE(args);
    const auto got = record(args);
    EXPECT_EQ(got.status, status) << got.err;
    EXPECT_EQ(got.out, "");
    EXPECT_EQ(std::count(got.err.begin(), got.err.end(), '\n'), 1) << got.err;
    EXPECT_TRUE(got.err.starts_with("syscg: ")) << got.err;
    EXPECT_NE(got.err.find(mentions), std::string::npos) << got.err;
  }
}

// The round trip: the suggested deny, written to a real group, lets the
// same command run there, with the same output; a call outside the record
// is refused.
TEST_F(EnforcerTest, RecordedPolicyLetsTheSameCommandRunInTheGroup) {
  const std::string cmd = "sh -c 'ls / | cat; echo done'";
  const auto got = record("--group rt -- " + cmd);
  ASSERT_EQ(got.status, 0) << got.err;
  const Report r = parse(got.out);
  ASSERT_EQ(r.group, "rt");
  mkgroup("rt");
  // The suggested command itself, run in the mount as a user would.
  ASSERT_EQ(sh(r.deny_line).status, 0) << r.deny_line;
  const auto deny = grammar::parse_syscall_list(read_file(path("rt/syscalls.deny")), grammar::ListFile::deny);
  ASSERT_TRUE(deny);
  EXPECT_EQ(grammar::format_syscall_ranges(deny.value()), r.ranges);

  const auto plain = sh(kTimeout + cmd);
  const auto confined = sh(kTimeout + syscg_binary() + " exec -m . rt -- " + cmd);
  EXPECT_EQ(confined.status, 0) << confined.output;
  EXPECT_EQ(confined.output, plain.output);
  EXPECT_NE(confined.output.find("done\n"), std::string::npos);
  // Not in the record, so denied: uname.
  ASSERT_FALSE(r.counts.contains(SYS_uname));
  const auto probe =
      sh(kTimeout + syscg_binary() + " exec -m . rt -- sh -c 'exec " + victim_binary() + " probe uname'");
  EXPECT_NE(probe.output.find("uname EPERM"), std::string::npos) << probe.output;
}

// --format=oci: the recorded policy as an OCI profile that allows what the
// command made.
TEST(RecordTest, FormatOciPrintsAProfile) {
  const auto got = record("--format=oci -- /bin/true");
  EXPECT_EQ(got.status, 0) << got.err;
  EXPECT_NE(got.out.find("\"defaultAction\": \"SCMP_ACT_ERRNO\""), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("\"exit_group\""), std::string::npos) << got.out;
  EXPECT_EQ(got.out.find("\"mount\""), std::string::npos) << got.out;
}

}  // namespace
}  // namespace syscg::test
