// The /proc text parsers on kernel output taken verbatim.
#include "enforcer/proc_text.h"

#include <gtest/gtest.h>

namespace syscg::enforcer {
namespace {

TEST(ProcTextTest, StatWithSpacesAndParenthesesInComm) {
  const auto st = parse_stat(
      "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->flags, 4194560u);
  EXPECT_EQ(st->start_time, 123456u);
  EXPECT_FALSE(st->kernel_thread());
  EXPECT_FALSE(st->exiting());
}

TEST(ProcTextTest, StatFlagsAndStates) {
  const auto kthread = parse_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0");
  ASSERT_TRUE(kthread);
  EXPECT_TRUE(kthread->kernel_thread());
  const auto exiting = parse_stat("7 (x) R 1 0 0 0 -1 4 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0");
  ASSERT_TRUE(exiting);
  EXPECT_TRUE(exiting->exiting());
  const auto zombie = parse_stat("7 (x) Z 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0");
  ASSERT_TRUE(zombie);
  EXPECT_TRUE(zombie->exiting());
}

TEST(ProcTextTest, MalformedStatIsRejected) {
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("12 (x"));
  EXPECT_FALSE(parse_stat("12 (x) S 1 2"));                                           // too few fields
  EXPECT_FALSE(parse_stat("12 (x) SS 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0"));  // state is one letter
  EXPECT_FALSE(parse_stat("12 (x) S y 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0"));
}

TEST(ProcTextTest, StatusFields) {
  const std::string_view text =
      "Name:\tcat\nUmask:\t0022\nTgid:\t4242\nPid:\t4243\nTracerPid:\t0\nUid:\t0\t1000\t2\t3\n"
      "CapEff:\t000001ffffffffff\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n";
  EXPECT_EQ(status_field(text, "Tgid"), "4242");
  EXPECT_EQ(status_field(text, "Uid"), "0\t1000\t2\t3");
  EXPECT_EQ(status_field(text, "Seccomp"), "2");  // not Seccomp_filters
  EXPECT_EQ(status_field(text, "Seccomp_filters"), "3");
  EXPECT_EQ(status_field(text, "Pid"), "4243");  // not TracerPid
  EXPECT_FALSE(status_field(text, "Gid"));
  EXPECT_EQ(parse_number(*status_field(text, "CapEff"), 16), 0x1ffffffffffu);
}

TEST(ProcTextTest, NumbersAndRest) {
  std::string_view rest;
  EXPECT_EQ(parse_number(" 12 34", 10, &rest), 12u);
  EXPECT_EQ(parse_number(rest), 34u);
  EXPECT_FALSE(parse_number("self"));
  EXPECT_FALSE(parse_number(""));
}

TEST(ProcTextTest, MapsRange) {
  const auto r = parse_maps_range("7ffd1c5f0000-7ffd1c5f2000 r-xp 00000000 00:00 0                          [vdso]");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lo, 0x7ffd1c5f0000u);
  EXPECT_EQ(r->hi, 0x7ffd1c5f2000u);
  EXPECT_FALSE(parse_maps_range("zz-10 r-xp"));
  EXPECT_FALSE(parse_maps_range("20-10 r-xp"));
}

}  // namespace
}  // namespace syscg::enforcer
