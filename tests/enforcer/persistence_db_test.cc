// Integration tests of the state database (fs/store.h) through real mounts:
// a power cut in the middle of a commit, one daemon per state, the
// database read by the sqlite3 shell, and a version-1 file converted.

#include "tests/support/persistence_fixture.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace syscg::test {
namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  return lines;
}

// The hook (fs/cut_vfs.h) kills the daemon at a sync of the WAL, the
// second half of the unsynced writes thrown away: the change being committed
// was written, not synced, and its reply never sent.
TEST_F(PersistenceTest, APowerCutBetweenWriteAndSyncKeepsEveryAcknowledgedChangeAndHalvesNone) {
  const std::string log = dir_ + "/log";
  {
    ::setenv("SYSCGFS_TEST_CUT_AT_SYNC", "6", 1);
    auto m = mount();
    ::unsetenv("SYSCGFS_TEST_CUT_AT_SYNC");
    // Each line is written only after the mkdir returned success.
    Child writer({"/bin/bash", "-c",
                  "cd " + m->dir() + " && for i in $(seq 1 100); do mkdir g$i || break; echo $i >> " + log + "; done"},
                 "/dev/null");
    ASSERT_EQ(m->daemon().wait_for(20s), 128 + SIGKILL) << "the hook did not cut";
    ASSERT_GE(writer.wait_for(20s), 0);
  }
  const int acked = count_lines(log);
  ASSERT_GT(acked, 0) << "no change was acknowledged before the cut";
  ASSERT_LT(acked, 100);
  // The database opens cleanly (the torn frames are ignored by recovery).
  EXPECT_EQ(sh("sqlite3 " + state_ + " 'pragma integrity_check'", "/").output, "ok\n");
  auto m = mount();
  for (int i = 1; i <= acked; ++i) EXPECT_TRUE(exists(m->path(fmt::format("g{}", i)))) << "acknowledged g" << i;
  // The one in flight: absent, or present whole (its 10 control files).
  const auto inflight = m->path(fmt::format("g{}", acked + 1));
  if (exists(inflight)) {
    EXPECT_EQ(m->sh(fmt::format("ls g{} | wc -l", acked + 1)).output, "10\n");
  }
  EXPECT_FALSE(exists(m->path(fmt::format("g{}", acked + 2))));
  EXPECT_EQ(m->log_errors(), "");
}

TEST_F(PersistenceTest, ASecondDaemonOnTheSameStateRefusesToStartNamingTheHolder) {
  auto first = mount();
  ASSERT_EQ(first->sh("mkdir kept").status, 0);
  char templ[] = "/tmp/syscgfs-second-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const auto r =
      sh("timeout 10 " + syscgfs_binary() + " " + templ + " -f -o state=" + state_ + " 2>&1 >/dev/null", "/");
  const bool mounted = is_mount_point(templ);
  if (mounted) sh(std::string("fusermount3 -u -z ") + templ, "/");
  rmdir(templ);
  EXPECT_FALSE(mounted);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("in use by syscgfs pid " + std::to_string(first->daemon_pid())), std::string::npos)
      << r.output;
  // The first one goes on saving.
  EXPECT_EQ(first->sh("mkdir also").status, 0);
  first.reset();
  EXPECT_TRUE(exists(mount()->path("also")));
}

TEST_F(PersistenceTest, StateNoneKeepsNothingAndTakesNoLock) {
  Mount a({"-o", "state=none"});
  Mount b({"-o", "state=none"});
  EXPECT_EQ(a.sh("mkdir g").status, 0);
  EXPECT_EQ(b.sh("mkdir g").status, 0);
  for (const auto* m : {&a, &b}) {
    EXPECT_NE(::access(m->state_path().c_str(), F_OK), 0);
    EXPECT_NE(::access((m->state_path() + ".lock").c_str(), F_OK), 0);
  }
}

// The README's queries, by the sqlite3 shell, while the daemon runs.
TEST_F(PersistenceTest, TheSqlite3ShellReadsTheGroupsAndMembersByPath) {
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  auto m = mount();
  ASSERT_EQ(m->sh("mkdir web web/php && chmod 750 web && echo 59,300-310 > web/syscalls.deny && "
                  "echo 2 > web/cgroup.max.depth && echo " +
                  std::to_string(v.pid()) + " > web/php/cgroup.procs")
                .status,
            0);
  auto r = sh("sqlite3 -readonly " + state_ +
                  " 'select path, denied, max_depth, mode from groups_by_path' 'select pid, path from members_by_path'",
              "/");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "/||max|755\n/web|59,300-310|2|750\n/web/php|59,300-310|max|755\n" + std::to_string(v.pid()) +
                          "|/web/php\n");
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// The old default /var/lib/syscg/state becomes /var/lib/syscg/state.db; the
// old file stays.
TEST_F(PersistenceTest, AVersion1StateFileIsConvertedOnTheFirstStartAndKept) {
  const std::string v1 = state_;
  state_ = dir_ + "/state.db";
  const std::string all(128, 'f');
  std::string denies59 = all;
  denies59[59 / 4] = "0123456789abcdef"[0xf & ~(1 << (59 % 4))];
  const std::string files = " 644:0:0 644:0:0 644:0:0 644:0:0 444:0:0 644:0:0 644:0:0 444:0:0 444:0:0 444:0:0";
  std::string text = "syscg-state 1\ngroup " + all + " max max 755:0:0" + files + " /\ngroup " + denies59 +
                     " 3 max 700:0:0" + files + " /old\n";
  text += fmt::format("end {:016x}\n", fnv1a(text));
  std::ofstream(v1) << text;
  {
    auto m = mount();
    EXPECT_EQ(m->sh("cat old/syscalls.deny old/cgroup.max.depth && stat -c %a old").output, "59\n3\n700\n");
    EXPECT_EQ(m->sh("mkdir new").status, 0);
  }
  EXPECT_EQ(read_file(v1), text) << "the version-1 file is kept as it was";
  auto m = mount();
  EXPECT_TRUE(exists(m->path("old")));
  EXPECT_TRUE(exists(m->path("new")));
  unlink(v1.c_str());
}

}  // namespace
}  // namespace syscg::test
