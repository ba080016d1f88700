#include "core/grammar.h"

#include "core/syscall_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>

namespace syscg::grammar {
namespace {

using namespace std::string_view_literals;

constexpr unsigned kLast = kSyscallWidth - 1;

SyscallSet make(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) EXPECT_TRUE(s.set(nr).has_value()) << nr;
  return s;
}

SyscallSet range(unsigned first, unsigned last) {
  SyscallSet s;
  EXPECT_TRUE(s.set_range(first, last).has_value());
  return s;
}

SyscallSet all_but_restart() {
  auto s = SyscallSet::all();
  EXPECT_TRUE(s.reset(kRestartSyscall).has_value());
  return s;
}

std::string describe(std::string_view text, ListFile file) {
  return testing::PrintToString(std::string(text)) + (file == ListFile::allow ? " (allow)" : " (deny)");
}

void expect_list(std::string_view text, ListFile file, const SyscallSet& want) {
  SCOPED_TRACE(describe(text, file));
  const auto r = parse_syscall_list(text, file);
  ASSERT_TRUE(r.has_value()) << errno_name(r.error().code) << ": " << r.error().message;
  EXPECT_EQ(format_syscall_list(r.value()), format_syscall_list(want));
}

void expect_list_error(std::string_view text, ListFile file, Errc code) {
  SCOPED_TRACE(describe(text, file));
  const auto r = parse_syscall_list(text, file);
  ASSERT_FALSE(r.has_value()) << "parsed as " << format_syscall_list(r.value());
  EXPECT_EQ(errno_name(r.error().code), errno_name(code)) << r.error().message;
}

// Most inputs behave the same for both files.
void expect_both(std::string_view text, const SyscallSet& want) {
  expect_list(text, ListFile::allow, want);
  expect_list(text, ListFile::deny, want);
}

void expect_both_error(std::string_view text, Errc code) {
  expect_list_error(text, ListFile::allow, code);
  expect_list_error(text, ListFile::deny, code);
}

// ---- syscalls.allow / syscalls.deny ------------------------------------------

TEST(GrammarSyscallList, NumbersInEveryKstrtointBase) {
  for (auto text : {"59"sv, "0x3b"sv, "0X3B"sv, "0x3B"sv, "073"sv, "+59"sv, "+0x3b"sv, "+073"sv})
    expect_both(text, make({59}));
  expect_both("0", make({0}));
  expect_both("00", make({0}));
  expect_both("0x0", make({0}));
  expect_both("511", make({kLast}));
  expect_both("0x1ff", make({kLast}));
  expect_both("0777", make({kLast}));
}

TEST(GrammarSyscallList, DenyTokensTakeAnErrno) {
  auto w = parse_list_write("clone3:ENOSYS 59 56-58:EAGAIN,60:13", ListFile::deny);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w.value().numbers.count(), 6u);
  EXPECT_EQ(w.value().errnos.of(435), ENOSYS);
  EXPECT_EQ(w.value().errnos.of(59), EPERM);
  EXPECT_EQ(w.value().errnos.of(57), EAGAIN);
  EXPECT_EQ(w.value().errnos.of(60), EACCES);
  EXPECT_EQ(format_deny_list(w.value().numbers, w.value().errnos),
            "56:EAGAIN 57:EAGAIN 58:EAGAIN 59 60:EACCES 435:ENOSYS\n");
  // glibc's aliases name the same numbers.
  auto alias = parse_list_write("59:EWOULDBLOCK 60:ENOTSUP 61:EDEADLOCK", ListFile::deny);
  ASSERT_TRUE(alias);
  EXPECT_EQ(alias.value().errnos.of(59), EAGAIN);
  EXPECT_EQ(alias.value().errnos.of(60), EOPNOTSUPP);
  EXPECT_EQ(alias.value().errnos.of(61), EDEADLK);
  // The same number twice: fine with one errno, invalid with two.
  EXPECT_TRUE(parse_list_write("59:EIO 59:EIO", ListFile::deny));
  EXPECT_TRUE(parse_list_write("59 59:EPERM", ListFile::deny));
  for (const char* bad : {"59:", ":EIO", "59:EWHAT", "59:0", "59:4096", "59:-1", "59:512", "59:516", "59:529",
                          "59:ENOSYS 59", "59:EIO:EIO", "restart_syscall:EIO", "@nosuchset"})
    EXPECT_EQ(parse_list_write(bad, ListFile::deny).error().code, Errc::invalid) << bad;
  EXPECT_EQ(parse_list_write("59:EIO", ListFile::allow).error().code, Errc::invalid);
  // A range's errno skips restart_syscall, as the range does.
  auto all = parse_list_write("a:ENOSYS", ListFile::deny);
  ASSERT_TRUE(all);
  EXPECT_FALSE(all.value().numbers.test(kRestartSyscall));
  EXPECT_EQ(all.value().errnos.of(0), ENOSYS);
}

TEST(GrammarSyscallList, SyscallNames) {
  expect_both("execve", make({59}));
  expect_both("read", make({0}));
  expect_both("read write close", make({0, 1, 3}));
  expect_list("restart_syscall", ListFile::allow, make({kRestartSyscall}));
}

TEST(GrammarSyscallList, InclusiveRanges) {
  expect_both("1-3", make({1, 2, 3}));
  expect_both("read-close", make({0, 1, 2, 3}));
  expect_both("read-3", make({0, 1, 2, 3}));
  expect_both("0x3b-execve", make({59}));
  expect_both("5-5", make({5}));
  expect_list("0-511", ListFile::allow, SyscallSet::all());  // deny: see DenySkipsRestartSyscall...
  expect_both("63-64", make({63, 64}));
  expect_both("1-3 2-4", range(1, 4));
}

TEST(GrammarSyscallList, WhitespaceAndCommaSeparation) {
  const auto one_two_three = make({1, 2, 3});
  for (auto text : {"1 2,3"sv, "1,2,3"sv, "1 , 2 ,3"sv, "1\t2\t3"sv, "  1   2 3  "sv, "1, 2,\t3"sv, "\n1\n2\n3\n"sv,
                    "1\v2\f3\r"sv, "3 2 1 1"sv})
    expect_both(text, one_two_three);
  expect_both("1 , 2", make({1, 2}));
}

TEST(GrammarSyscallList, TrailingNewlineIsIgnored) {
  expect_both("59\n", make({59}));
  expect_both("execve\n", make({59}));
  expect_both("1-3\n", make({1, 2, 3}));
  expect_both("1,2\n", make({1, 2}));
}

TEST(GrammarSyscallList, AllKeyword) {
  for (auto text : {"a"sv, "all"sv, "all\n"sv, " a "sv, "1 a"sv, "a,5"sv}) {
    expect_list(text, ListFile::allow, SyscallSet::all());
    expect_list(text, ListFile::deny, all_but_restart());
  }
  const auto r = parse_syscall_list("a", ListFile::deny);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value().count(), kSyscallWidth - 1);
  EXPECT_FALSE(r.value().test(kRestartSyscall));
}

TEST(GrammarSyscallList, WriteSizeLimit) {
  // Exactly kMaxWrite bytes of valid input is accepted.
  std::string pairs;
  for (unsigned i = 0; i < kMaxWrite / 2; ++i) pairs += "1 ";
  ASSERT_EQ(pairs.size(), kMaxWrite);
  expect_both(pairs, make({1}));
  const std::string padded = "59" + std::string(kMaxWrite - 2, ' ');
  expect_both(padded, make({59}));

  // One more byte is E2BIG, checked before anything else.
  expect_both_error(pairs + " ", Errc::too_big);
  expect_both_error(padded + "\n", Errc::too_big);
  expect_both_error(std::string(kMaxWrite + 1, 'x'), Errc::too_big);
  expect_both_error(std::string(kMaxWrite + 1, ' '), Errc::too_big);
  expect_list_error("219" + std::string(kMaxWrite - 2, ' '), ListFile::deny, Errc::too_big);
}

TEST(GrammarSyscallList, MalformedInputIsInvalid) {
  for (auto text :
       {""sv,      "\n"sv,    "   "sv,  " \t\n"sv,  ","sv,   "1,,2"sv,       ",1"sv,    "1,"sv,    "1 ,"sv,
        ", 1"sv,   "1, ,2"sv, "foo"sv,  "EXECVE"sv, "A"sv,   "al"sv,         "alll"sv,  "08"sv,    "09"sv,
        "0x"sv,    "0xg"sv,   "0x3g"sv, "3b"sv,     "59x"sv, "1.0"sv,        "1-"sv,    "-"sv,     "+"sv,
        "--1"sv,   "+-1"sv,   "-+1"sv,  "++1"sv,    "5-3"sv, "close-read"sv, "511-0"sv, "1-2-3"sv, "1-foo"sv,
        "foo-3"sv, "1--"sv,   "1-a"sv,  "a-3"sv,    "1;2"sv})
    expect_both_error(text, Errc::invalid);
}

TEST(GrammarSyscallList, OutOfRangeNumbers) {
  for (auto text : {"512"sv, "0x200"sv, "01000"sv, "-1"sv, "-0x1"sv, "-2147483648"sv, "2147483647"sv, "2147483648"sv,
                    "99999999999"sv, "99999999999999999999999"sv, "1-512"sv, "0-0x200"sv, "500-99999999999"sv})
    expect_both_error(text, Errc::out_of_range);
}

// grammar.h: token := value '-' value, and a value is anything kstrtoint reads,
// so a signed endpoint is part of the grammar: "+1" is the value 1 and "-1" is
// a number < 0 (ERANGE).
TEST(GrammarSyscallList, RangeEndpointsTakeNoSign) {
  for (auto text : {"+1-3"sv, "1-+3"sv, "+0x3a-+073"sv, "-1-3"sv, "1--3"sv}) expect_both_error(text, Errc::invalid);
}

TEST(GrammarSyscallList, DenyRejectsExplicitRestartSyscall) {
  for (auto text : {"219"sv, "restart_syscall"sv, "0xdb"sv, "0333"sv, "+219"sv, "1 219"sv, "219 1"sv, "a 219"sv,
                    "1,restart_syscall\n"sv})
    expect_list_error(text, ListFile::deny, Errc::invalid);
}

TEST(GrammarSyscallList, DenySkipsRestartSyscallInRangesAndAll) {
  auto want = range(200, 230);
  ASSERT_TRUE(want.reset(kRestartSyscall).has_value());
  expect_list("200-230", ListFile::deny, want);
  expect_list("219-219", ListFile::deny, SyscallSet::none());
  expect_list("0-511", ListFile::deny, all_but_restart());
  expect_list("a", ListFile::deny, all_but_restart());
}

TEST(GrammarSyscallList, AllowAcceptsRestartSyscall) {
  for (auto text : {"219"sv, "restart_syscall"sv, "0xdb"sv})
    expect_list(text, ListFile::allow, make({kRestartSyscall}));
  expect_list("200-230", ListFile::allow, range(200, 230));
}

TEST(GrammarSyscallList, AllOrNothingFirstBadTokenDecides) {
  expect_both_error("1 2 foo", Errc::invalid);
  expect_both_error("1 512", Errc::out_of_range);
  expect_both_error("a 512", Errc::out_of_range);
  expect_both_error("foo 512", Errc::invalid);
  expect_both_error("512 foo", Errc::out_of_range);
  expect_both_error("1-512 5-3", Errc::out_of_range);
  expect_both_error("5-3 1-512", Errc::invalid);
  expect_list_error("219 512", ListFile::deny, Errc::invalid);
  expect_list_error("512 219", ListFile::deny, Errc::out_of_range);
}

TEST(GrammarSyscallList, FormatIsAscendingSpaceSeparatedNewlineTerminated) {
  EXPECT_EQ(format_syscall_list(SyscallSet::none()), "\n");
  EXPECT_EQ(format_syscall_list(make({0})), "0\n");
  EXPECT_EQ(format_syscall_list(make({511, 0, 1})), "0 1 511\n");
  EXPECT_EQ(format_syscall_list(make({64, 63, 219})), "63 64 219\n");
  const auto all = format_syscall_list(SyscallSet::all());
  EXPECT_TRUE(all.starts_with("0 1 2 3 "));
  EXPECT_TRUE(all.ends_with(" 509 510 511\n"));
  EXPECT_LE(all.size(), kMaxWrite);  // a read of a full set can be written back
}

TEST(GrammarSyscallList, RandomSetsRoundTrip) {
  constexpr std::uint32_t kSeed = 20110603;
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<unsigned> nr_dist(0, kLast);
  for (int round = 0; round < 200; ++round) {
    const double density = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    std::bernoulli_distribution member(density);
    SyscallSet s;
    for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
      if (member(rng)) {
        ASSERT_TRUE(s.set(nr).has_value());
      }
    }
    if (s.empty()) {
      ASSERT_TRUE(s.set(nr_dist(rng)).has_value());  // "\n" is not a valid write
    }
    const auto text = format_syscall_list(s);
    SCOPED_TRACE(testing::Message() << "round " << round << ": " << text);

    const auto allowed = parse_syscall_list(text, ListFile::allow);
    ASSERT_TRUE(allowed.has_value());
    EXPECT_EQ(allowed.value(), s);

    auto without_restart = s;
    ASSERT_TRUE(without_restart.reset(kRestartSyscall).has_value());
    if (without_restart.empty()) continue;
    const auto denied = parse_syscall_list(format_syscall_list(without_restart), ListFile::deny);
    ASSERT_TRUE(denied.has_value());
    EXPECT_EQ(denied.value(), without_restart);
  }
}

// ---- cgroup.max.depth / cgroup.max.descendants --------------------------------

void expect_limit(std::string_view text, int want) {
  SCOPED_TRACE(testing::PrintToString(std::string(text)));
  const auto r = parse_limit(text);
  ASSERT_TRUE(r.has_value()) << errno_name(r.error().code) << ": " << r.error().message;
  EXPECT_EQ(r.value(), want);
}

void expect_limit_error(std::string_view text, Errc code) {
  SCOPED_TRACE(testing::PrintToString(std::string(text)));
  const auto r = parse_limit(text);
  ASSERT_FALSE(r.has_value()) << "parsed as " << r.value();
  EXPECT_EQ(errno_name(r.error().code), errno_name(code)) << r.error().message;
}

TEST(GrammarLimit, ParsesMaxAndIntegers) {
  for (auto text : {"max"sv, "max\n"sv, " max "sv, "\tmax\n"sv}) expect_limit(text, kUnlimited);
  expect_limit("0", 0);
  expect_limit("5", 5);
  expect_limit(" 5 ", 5);
  expect_limit("5\n", 5);
  expect_limit("0x10", 16);
  expect_limit("010", 8);
  expect_limit("+7", 7);
  expect_limit("2147483647", kUnlimited);
}

TEST(GrammarLimit, Errors) {
  for (auto text : {"-1"sv, "-2147483648"sv, "99999999999"sv, "2147483648"sv})
    expect_limit_error(text, Errc::out_of_range);
  for (auto text : {"abc"sv, ""sv, "\n"sv, "   "sv, "MAX"sv, "max max"sv, "maxx"sv, "5 6"sv, "5,"sv, "08"sv, "0x"sv,
                    "1.5"sv, "-"sv})
    expect_limit_error(text, Errc::invalid);
  expect_limit_error(std::string(kMaxWrite + 1, ' '), Errc::too_big);
  expect_limit_error("5" + std::string(kMaxWrite, ' '), Errc::too_big);
  expect_limit("5" + std::string(kMaxWrite - 1, ' '), 5);
}

TEST(GrammarLimit, FormatAndRoundTrip) {
  EXPECT_EQ(format_limit(kUnlimited), "max\n");
  EXPECT_EQ(format_limit(3), "3\n");
  EXPECT_EQ(format_limit(0), "0\n");
  for (int v : {0, 1, 3, 100, kUnlimited - 1, kUnlimited}) expect_limit(format_limit(v), v);
}

// ---- cgroup.procs ---------------------------------------------------------------

TEST(GrammarPid, ParsesOneProcessId) {
  const auto expect_pid = [](std::string_view text, int want) {
    SCOPED_TRACE(testing::PrintToString(std::string(text)));
    const auto r = parse_pid(text);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r.value(), want);
  };
  expect_pid("1234", 1234);
  expect_pid("1234\n", 1234);
  expect_pid(" 42 ", 42);
  expect_pid("0", 0);  // the writer itself
  expect_pid("0x10", 16);
  expect_pid("2147483647", 2147483647);
}

TEST(GrammarPid, EveryFailureIsInvalid) {
  for (auto text : {""sv, "\n"sv, "abc"sv, "-1"sv, "1 2"sv, "1,2"sv, "08"sv, "99999999999"sv, "max"sv}) {
    SCOPED_TRACE(testing::PrintToString(std::string(text)));
    const auto r = parse_pid(text);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid);
  }
  const auto big = parse_pid("1" + std::string(kMaxWrite, ' '));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, Errc::too_big);
}

// ---- group names ----------------------------------------------------------------

TEST(GrammarGroupName, ReservedNames) {
  for (auto name : {"cgroup.procs"sv, "cgroup.max.depth"sv, "cgroup.anything"sv, "cgroup."sv, "syscalls.allow"sv,
                    "syscalls.deny"sv, "syscalls.x"sv, "syscalls."sv})
    EXPECT_TRUE(is_reserved_name(name)) << name;
  for (auto name : {"cgroup"sv, "syscalls"sv, "web"sv, "my.cgroup.procs"sv, "Cgroup.procs"sv, "cgroups.procs"sv,
                    "syscall.allow"sv, ""sv})
    EXPECT_FALSE(is_reserved_name(name)) << name;
}

TEST(GrammarGroupName, ValidNames) {
  for (const std::string& name :
       {std::string("web"), std::string("a.b"), std::string("..."), std::string(".hidden"), std::string("cgroup"),
        std::string("a b"), std::string("syscalls"), std::string(255, 'x')}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(check_group_name(name).has_value());
  }
}

TEST(GrammarGroupName, InvalidNames) {
  for (const std::string& name :
       {std::string(), std::string("."), std::string(".."), std::string("a/b"), std::string("/"), std::string("a\nb"),
        std::string("a\n"), std::string(256, 'x'), std::string("a\0b", 3), std::string(1, '\0'),
        std::string("cgroup.procs"), std::string("syscalls.allow"), std::string("cgroup.anything"),
        std::string("syscalls.x")}) {
    SCOPED_TRACE(testing::PrintToString(name));
    const auto r = check_group_name(name);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::invalid);
  }
}

TEST(GrammarSyscallList, RangesFormatAsOneTokenThatParsesBack) {
  EXPECT_EQ(format_syscall_ranges(SyscallSet::none()), "");
  auto s = parse_syscall_list("59 62-64 0 511", ListFile::deny).value();
  EXPECT_EQ(format_syscall_ranges(s), "0,59,62-64,511");
  EXPECT_EQ(parse_syscall_list(format_syscall_ranges(s), ListFile::deny).value(), s);
  EXPECT_EQ(format_syscall_ranges(SyscallSet::all()), "0-511");
}

}  // namespace
}  // namespace syscg::grammar
