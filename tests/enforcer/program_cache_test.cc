// The program cache (enforcer/program_cache.h): compiles once per key,
// returns exactly what the compiler returns.
#include "enforcer/program_cache.h"

#include "enforcer/bpf/compiler.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace syscg::enforcer {
namespace {

bool same(const bpf::Program& a, const bpf::Program& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].code != b[i].code || a[i].jt != b[i].jt || a[i].jf != b[i].jf || a[i].k != b[i].k) return false;
  return true;
}

SyscallSet without(std::initializer_list<unsigned> nrs) {
  SyscallSet s = SyscallSet::all();
  for (unsigned nr : nrs) (void)s.reset(nr);
  return s;
}

TEST(ProgramCacheTest, EqualKeysShareOneProgram) {
  ProgramCache cache;
  auto a = cache.get(without({39}));
  auto b = cache.get(without({39}));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a.value().get(), b.value().get());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ProgramCacheTest, TheNotifySetIsPartOfTheKey) {
  ProgramCache cache;
  SyscallSet notify;
  (void)notify.set(39);
  auto plain = cache.get(without({39}));
  auto supervised = cache.get(without({39}), notify);
  ASSERT_TRUE(plain);
  ASSERT_TRUE(supervised);
  EXPECT_NE(plain.value().get(), supervised.value().get());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ProgramCacheTest, ItReturnsWhatTheCompilerReturns) {
  ProgramCache cache;
  SyscallSet notify;
  (void)notify.set(60);
  auto cached = cache.get(without({60, 231}), notify);
  auto compiled = bpf::compile(without({60, 231}), notify);
  ASSERT_TRUE(cached);
  ASSERT_TRUE(compiled);
  EXPECT_TRUE(same(*cached.value(), compiled.value()));
}

TEST(ProgramCacheTest, ConcurrentCallersGetTheSameProgram) {
  ProgramCache cache;
  std::vector<const bpf::Program*> got(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] {
      auto p = cache.get(without({1, 2, 3}));
      if (p) got[i] = p.value().get();
    });
  for (auto& t : threads) t.join();
  for (const auto* p : got) EXPECT_EQ(p, got[0]);
  EXPECT_NE(got[0], nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace syscg::enforcer
