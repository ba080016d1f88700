// syscg::formats, export: to_oci and to_systemd against golden files written
// from the OCI runtime spec and systemd.exec(5), and round trips through
// from_oci.
#include "core/formats/commands.h"
#include "core/formats/oci.h"
#include "core/formats/systemd.h"
#include "core/syscall_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace syscg::formats {
namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(FORMATS_TEST_DIR) + "/golden/" + name);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

SyscallSet set_of(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) EXPECT_TRUE(s.set(nr));
  return s;
}

SyscallSet all_but(std::initializer_list<unsigned> nrs) {
  SyscallSet s = SyscallSet::all();
  for (unsigned nr : nrs) EXPECT_TRUE(s.reset(nr));
  return s;
}

constexpr unsigned kExecve = 59, kUname = 63, kGetppid = 110, kClone3 = 435;

// A group denying execve (EPERM) and clone3 (ENOSYS).
struct ExecveGroup {
  SyscallSet allowed = all_but({kExecve, kClone3});
  DenyErrnos errnos;
  ExecveGroup() { errnos.assign(set_of({kClone3}), ENOSYS); }
};

TEST(FormatsExport, OciOfAGroupDenyingExecveAndClone3MatchesItsGoldenFile) {
  const ExecveGroup g;
  EXPECT_EQ(to_oci(g.allowed, g.errnos), golden("deny-execve-clone3.oci.json"));
}

TEST(FormatsExport, OciOfAnAllowListWithErrnosMatchesItsGoldenFile) {
  // read, write, exit, exit_group allowed; uname ENOSYS, getppid EACCES, the rest EPERM.
  const SyscallSet allowed = set_of({0, 1, 60, 231, kRestartSyscall});
  DenyErrnos errnos;
  errnos.assign(set_of({kUname}), ENOSYS);
  errnos.assign(set_of({kGetppid}), EACCES);
  EXPECT_EQ(to_oci(allowed, errnos), golden("small-allow-list.oci.json"));
}

TEST(FormatsExport, SystemdOfAGroupDenyingExecveAndClone3MatchesItsGoldenFile) {
  const ExecveGroup g;
  EXPECT_EQ(to_systemd(g.allowed, g.errnos), golden("deny-execve-clone3.systemd"));
}

TEST(FormatsExport, SystemdListsDeniedNumbersWithoutANameInItsComment) {
  SyscallSet allowed = SyscallSet::all();
  ASSERT_TRUE(allowed.reset_range(500, 511));  // no names above 462 or so
  ASSERT_TRUE(allowed.reset(kUname));
  DenyErrnos errnos;
  errnos.assign(set_of({kUname}), 4000);  // no errno name: written as a number
  const std::string text = to_systemd(allowed, errnos);
  EXPECT_EQ(text,
            "# syscg: denied numbers without a name (not expressible here): 500-511\n"
            "SystemCallArchitectures=native\n"
            "SystemCallErrorNumber=EPERM\n"
            "SystemCallFilter=~clone3:ENOSYS\n"
            "SystemCallFilter=~uname:4000\n");
}

TEST(FormatsExport, RestartSyscallIsAllowedAndClone3IsEnosysWhateverTheSetsSay) {
  const std::string oci = to_oci(SyscallSet::none(), DenyErrnos{});
  const auto back = from_oci(oci, {});
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back.value().allowed, set_of({kRestartSyscall}));
  EXPECT_EQ(back.value().errnos.of(kClone3), ENOSYS);
  EXPECT_EQ(to_systemd(SyscallSet::all(), DenyErrnos{}),
            "# syscg: denied numbers without a name (not expressible here): none\n"
            "SystemCallArchitectures=native\nSystemCallErrorNumber=EPERM\nSystemCallFilter=~clone3:ENOSYS\n");
}

// What a round trip keeps: every number with a name, clone3 aside.
SyscallSet named() {
  SyscallSet s;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    if (syscall_table::name(nr) && nr != kClone3) {
      EXPECT_TRUE(s.set(nr));
    }
  }
  return s;
}

void expect_round_trip(const SyscallSet& allowed, const DenyErrnos& errnos) {
  const auto back = from_oci(to_oci(allowed, errnos), {});
  ASSERT_TRUE(back) << back.error().message;
  const SyscallSet keep = named();
  SyscallSet want = allowed & keep;
  (void)want.set(kRestartSyscall);
  EXPECT_EQ(back.value().allowed & keep, want);
  for (unsigned nr : keep) {
    if (!want.test(nr)) {
      EXPECT_EQ(back.value().errnos.of(nr), errnos.of(nr)) << nr;
    }
  }
  // Fail closed: numbers without a name come back denied, clone3 ENOSYS.
  EXPECT_TRUE((back.value().allowed & ~keep).is_subset_of(set_of({kRestartSyscall})));
  EXPECT_EQ(back.value().errnos.of(kClone3), ENOSYS);
  EXPECT_TRUE(back.value().dropped.empty()) << back.value().dropped.front();
}

TEST(FormatsRoundTrip, OciThenImportGivesBackTheSetAndTheErrnosOfNamedNumbers) {
  const ExecveGroup g;
  expect_round_trip(g.allowed, g.errnos);
  expect_round_trip(SyscallSet::all(), DenyErrnos{});
  expect_round_trip(SyscallSet::none(), DenyErrnos{});
  // Pseudo-random sets and errnos, reproducible.
  unsigned seed = 12345;
  const auto next = [&] { return seed = seed * 1103515245U + 12345U, (seed >> 16) & 0x7fff; };
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE(round);
    SyscallSet allowed;
    DenyErrnos errnos;
    for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
      if (next() % 3 != 0) {
        (void)allowed.set(nr);
      } else if (next() % 4 == 0) {
        errnos.assign(set_of({nr}), static_cast<int>(1 + next() % 200));
      }
    }
    expect_round_trip(allowed, errnos);
  }
}

TEST(FormatsCommands, DenyCommandsGroupRunsByErrnoEpermFirst) {
  SyscallSet allowed = SyscallSet::all();
  ASSERT_TRUE(allowed.reset_range(56, 59));
  ASSERT_TRUE(allowed.reset_range(300, 310));
  ASSERT_TRUE(allowed.reset(kClone3));
  ASSERT_TRUE(allowed.reset(kUname));
  DenyErrnos errnos;
  errnos.assign(set_of({56, 57, 58}), EAGAIN);
  errnos.assign(set_of({kClone3, kUname}), ENOSYS);
  errnos.assign(set_of({300}), 4000);
  EXPECT_EQ(deny_commands(allowed, errnos),
            std::vector<std::string>{"59 301-310 56-58:EAGAIN 63:ENOSYS 435:ENOSYS 300:4000\n"});
  EXPECT_EQ(allow_commands(set_of({0, 1, 2, 5, kRestartSyscall})), std::vector<std::string>{"0-2 5 219\n"});
  EXPECT_TRUE(deny_commands(SyscallSet::all(), errnos).empty());
  EXPECT_TRUE(allow_commands(SyscallSet::none()).empty());
}

TEST(FormatsCommands, RestartSyscallIsNeverDenied) {
  EXPECT_EQ(deny_commands(SyscallSet::none(), DenyErrnos{}), std::vector<std::string>{"0-218 220-511\n"});
}

TEST(FormatsCommands, LongCommandsAreSplitBetweenTokensWithinTheLimit) {
  SyscallSet every_other;
  for (unsigned nr = 0; nr < kSyscallWidth; nr += 2) ASSERT_TRUE(every_other.set(nr));
  for (const std::size_t limit : {std::size_t{16}, std::size_t{100}, kControlWriteMax}) {
    SCOPED_TRACE(limit);
    const auto cmds = allow_commands(every_other, limit);
    std::string all;
    for (const auto& c : cmds) {
      EXPECT_LE(c.size(), limit);
      EXPECT_TRUE(c.ends_with("\n"));
      EXPECT_FALSE(c.starts_with(" "));
      if (!all.empty()) all += ' ';
      all += c.substr(0, c.size() - 1);
    }
    std::string want;
    for (unsigned nr = 0; nr < kSyscallWidth; nr += 2) {
      if (!want.empty()) want += ' ';
      want += std::to_string(nr);
    }
    EXPECT_EQ(all, want);
  }
  EXPECT_EQ(allow_commands(every_other).size(), 1U);  // 256 tokens, about 1 KiB
}

}  // namespace
}  // namespace syscg::formats
