// Reading a filter record back from a filter chain (enforcer/readback.h's
// pure part), on programs our compiler made; and the strict parse of the
// test hook (enforcer/test_hold.h).
#include "enforcer/readback.h"

#include "enforcer/bpf/compiler.h"
#include "enforcer/test_hold.h"

#include <gtest/gtest.h>

namespace syscg::enforcer {
namespace {

SyscallSet of(std::initializer_list<unsigned> nrs) {
  SyscallSet s;
  for (unsigned nr : nrs) (void)s.set(nr);
  return s;
}

bpf::Program compiled(const SyscallSet& allowed, const SyscallSet& notify = {}) {
  auto p = bpf::compile(allowed, notify);
  EXPECT_TRUE(p);
  return p ? p.value() : bpf::Program{};
}

TEST(ReadbackTest, NoFilterRunsEverything) {
  auto f = record_from({});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->hard, SyscallSet::all());
  EXPECT_FALSE(f->guarded);
}

TEST(ReadbackTest, OurFilterCarriesTheCloneGuard) {
  const std::vector<bpf::Program> chain{compiled(SyscallSet::all())};
  EXPECT_TRUE(has_clone_guard(chain));
  auto f = record_from(chain);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->guarded);
  EXPECT_TRUE(f->hard.test(bpf::kClone3Nr));  // the guard's ENOSYS is not a loss
  EXPECT_TRUE(f->tightened.empty());
  EXPECT_TRUE(f->unsupervised.empty());
}

TEST(ReadbackTest, ANotifiedNumberIsLostWithTheOldListenerAndADeniedOneForGood) {
  const unsigned kGetpid = 39, kUname = 63;
  const std::vector<bpf::Program> chain{compiled(~of({kGetpid}), of({kGetpid})), compiled(~of({kUname}))};
  auto f = record_from(chain);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->unsupervised.test(kGetpid));
  EXPECT_EQ(f->why_unsupervised, "daemon-restarted");
  EXPECT_TRUE(f->tightened.test(kUname));
  EXPECT_TRUE(f->hard.test(0));  // read
  EXPECT_TRUE(f->routed.empty());
}

TEST(TestHoldTest, ParsesMillisecondsStrictly) {
  EXPECT_EQ(parse_test_hold("0").value(), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_test_hold("250").value(), std::chrono::milliseconds(250));
  for (std::string_view bad : {"", "-5", "12ms", " 12", "12 ", "0x10", "99999999999999999999", "60001"})
    EXPECT_FALSE(parse_test_hold(bad)) << "'" << bad << "'";
}

}  // namespace
}  // namespace syscg::enforcer
