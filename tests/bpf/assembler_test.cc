#include "enforcer/bpf/assembler.h"
#include "enforcer/bpf/disassembler.h"
#include "enforcer/bpf/interpreter.h"
#include "tests/bpf/util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace syscg::bpf {
namespace {

using testing::call;

template <class R>
void expect_invalid(const R& r, std::string_view mentions) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::invalid);
  EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
}

std::uint32_t run_ok(const Program& p, const seccomp_data& d) {
  auto r = run(p, d);
  EXPECT_TRUE(r.has_value()) << r.error().message << "\n" << disassemble(p);
  return r ? r.value() : 0xdeadbeef;
}

bool is_ja(const sock_filter& i) { return i.code == (BPF_JMP | BPF_JA); }

std::size_t count_ja(const Program& p) {
  std::size_t n = 0;
  for (const auto& i : p) n += is_ja(i) ? 1 : 0;
  return n;
}

void filler(Assembler& a, unsigned n) {
  for (unsigned i = 0; i < n; ++i) a.ld_abs(kOffsetArch);
}

TEST(BpfAssembler, ResolvesLabelsToForwardOffsets) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(7, "seven", "other");
  a.label("other");
  a.jgt(9, "big", "small");
  a.label("small");
  a.ret(SECCOMP_RET_ERRNO | 1);
  a.label("seven");
  a.ret(SECCOMP_RET_ALLOW);
  a.label("big");
  a.ja("end");
  a.ret(SECCOMP_RET_KILL_PROCESS);  // skipped
  a.label("end");
  a.ret(SECCOMP_RET_ERRNO | 3);
  auto p = a.finish();
  ASSERT_TRUE(p.has_value()) << p.error().message;
  const auto& prog = p.value();
  EXPECT_EQ(disassemble(prog),
            "0000: ld [0] (nr)\n"
            "0001: jeq #0x7 jt 4 jf 2\n"
            "0002: jgt #0x9 jt 5 jf 3\n"
            "0003: ret ERRNO(1)\n"
            "0004: ret ALLOW\n"
            "0005: ja 7\n"
            "0006: ret KILL_PROCESS\n"
            "0007: ret ERRNO(3)\n");
  ASSERT_EQ(prog.size(), 8U);
  EXPECT_EQ(prog[1].jt, 2);  // raw offsets count from the next instruction
  EXPECT_EQ(prog[1].jf, 0);
  EXPECT_EQ(prog[5].k, 1U);
  EXPECT_EQ(count_ja(prog), 1U);  // no trampolines in a short program
  EXPECT_EQ(run_ok(prog, call(7)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run_ok(prog, call(8)), SECCOMP_RET_ERRNO | 1);
  EXPECT_EQ(run_ok(prog, call(10)), SECCOMP_RET_ERRNO | 3);
  EXPECT_TRUE(a.finish().has_value());  // finish() leaves the assembler usable
  EXPECT_EQ(a.size(), 8U);
}

TEST(BpfAssembler, AllJumpKindsAndStatements) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jset(0x40000000, "x", "a");
  a.label("a");
  a.jge(100, "x", "b");
  a.label("b");
  a.stmt(BPF_ALU | BPF_ADD | BPF_K, 1);
  a.ret_a();
  a.label("x");
  a.ret(SECCOMP_RET_ERRNO | 9);
  auto p = a.finish();
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(run_ok(p.value(), call(41)), 42U);
  EXPECT_EQ(run_ok(p.value(), call(100)), SECCOMP_RET_ERRNO | 9);
  EXPECT_EQ(run_ok(p.value(), call(0x40000001)), SECCOMP_RET_ERRNO | 9);
}

TEST(BpfAssembler, FarTrueBranchGoesThroughATrampoline) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(1, "far", "near");
  a.label("near");
  filler(a, 300);
  a.ret(SECCOMP_RET_ERRNO | 2);
  a.label("far");
  a.ret(SECCOMP_RET_ALLOW);
  auto p = a.finish();
  ASSERT_TRUE(p.has_value()) << p.error().message;
  const auto& prog = p.value();
  ASSERT_EQ(prog.size(), 305U) << disassemble(prog);
  EXPECT_EQ(prog[1].jt, 0);  // to the trampoline right after the jump
  EXPECT_EQ(prog[1].jf, 1);  // over it
  ASSERT_TRUE(is_ja(prog[2]));
  EXPECT_EQ(2 + 1 + prog[2].k, 304U);
  EXPECT_EQ(run_ok(prog, call(1)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run_ok(prog, call(0)), SECCOMP_RET_ERRNO | 2);
}

TEST(BpfAssembler, BothBranchesFar) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(1, "t", "f");
  filler(a, 300);
  a.label("t");
  a.ret(SECCOMP_RET_ALLOW);
  filler(a, 300);
  a.label("f");
  a.ret(SECCOMP_RET_ERRNO | 5);
  auto p = a.finish();
  ASSERT_TRUE(p.has_value()) << p.error().message;
  const auto& prog = p.value();
  EXPECT_EQ(prog[1].jt, 0);
  EXPECT_EQ(prog[1].jf, 1);
  EXPECT_TRUE(is_ja(prog[2]) && is_ja(prog[3])) << disassemble(prog);
  EXPECT_EQ(count_ja(prog), 2U);
  EXPECT_EQ(run_ok(prog, call(1)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run_ok(prog, call(2)), SECCOMP_RET_ERRNO | 5);
}

// Offset 255 fits in 8 bits, 256 does not.
TEST(BpfAssembler, TrampolineOnlyBeyond255) {
  for (unsigned gap : {254U, 255U, 256U}) {
    SCOPED_TRACE(gap);
    Assembler a;
    a.ld_abs(kOffsetNr);
    a.jeq(1, "t", "f");
    a.label("f");
    filler(a, gap - 1);
    a.ret(SECCOMP_RET_ERRNO | 1);  // the jeq's "f" neighbour is 1, "t" is gap ahead
    a.label("t");
    a.ret(SECCOMP_RET_ALLOW);
    auto p = a.finish();
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(count_ja(p.value()), gap > 255 ? 1U : 0U);
    if (gap <= 255) {
      EXPECT_EQ(p.value()[1].jt, gap);
    }
    EXPECT_EQ(run_ok(p.value(), call(1)), SECCOMP_RET_ALLOW);
    EXPECT_EQ(run_ok(p.value(), call(3)), SECCOMP_RET_ERRNO | 1);
  }
}

// Trampolines of jumps inside a span lengthen it: a jump 255 ahead needs its
// own trampoline once inner ones are inserted.
TEST(BpfAssembler, TrampolinesCascade) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(1, "outer", "in1");  // 1
  a.label("in1");
  a.jeq(2, "far", "in2");  // 2
  a.label("in2");
  a.jeq(3, "far", "in3");  // 3
  a.label("in3");
  filler(a, 252);                // 4..255
  a.ret(SECCOMP_RET_ERRNO | 1);  // 256: "outer" is 255 ahead of the first jeq
  a.label("outer");
  a.ret(SECCOMP_RET_ERRNO | 2);  // 257
  filler(a, 300);
  a.label("far");
  a.ret(SECCOMP_RET_ALLOW);
  auto p = a.finish();
  ASSERT_TRUE(p.has_value()) << p.error().message;
  const auto& prog = p.value();
  EXPECT_EQ(count_ja(prog), 3U) << disassemble(prog);
  EXPECT_TRUE(is_ja(prog[2]));  // the outer jump's own trampoline
  EXPECT_EQ(run_ok(prog, call(1)), SECCOMP_RET_ERRNO | 2);
  EXPECT_EQ(run_ok(prog, call(2)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run_ok(prog, call(3)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run_ok(prog, call(4)), SECCOMP_RET_ERRNO | 1);
}

TEST(BpfAssembler, RejectsDuplicateLabels) {
  Assembler a;
  a.label("x");
  a.ld_abs(kOffsetNr);
  a.label("x");
  a.ret(SECCOMP_RET_ALLOW);
  expect_invalid(a.finish(), "label 'x' defined twice");
}

TEST(BpfAssembler, RejectsUndefinedLabels) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(1, "yes", "nowhere");
  a.label("yes");
  a.ret(SECCOMP_RET_ALLOW);
  expect_invalid(a.finish(), "label 'nowhere' is never defined");
}

TEST(BpfAssembler, RejectsBackwardJumps) {
  {
    Assembler a;
    a.label("top");
    a.ld_abs(kOffsetNr);
    a.jeq(1, "top", "end");
    a.label("end");
    a.ret(SECCOMP_RET_ALLOW);
    expect_invalid(a.finish(), "jump to label 'top' at 0 goes backward");
  }
  {
    Assembler a;  // a jump to itself is a loop too
    a.ld_abs(kOffsetNr);
    a.label("self");
    a.ja("self");
    a.ret(SECCOMP_RET_ALLOW);
    expect_invalid(a.finish(), "goes backward");
  }
}

TEST(BpfAssembler, RejectsLabelAtTheEnd) {
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(1, "end", "ok");
  a.label("ok");
  a.ret(SECCOMP_RET_ALLOW);
  a.label("end");
  expect_invalid(a.finish(), "at the end of the program");
}

TEST(BpfAssembler, RejectsMisuse) {
  expect_invalid(Assembler{}.finish(), "empty program");
  {
    Assembler a;
    a.ld_abs(kOffsetNr);
    expect_invalid(a.finish(), "must be a ret");
  }
  {
    Assembler a;
    a.stmt(BPF_JMP | BPF_JA, 0);
    a.ret(SECCOMP_RET_ALLOW);
    expect_invalid(a.finish(), "jump opcode");
  }
}

TEST(BpfAssembler, AtMostMaxInstructions) {
  for (std::size_t n : {kMaxInstructions, kMaxInstructions + 1}) {
    SCOPED_TRACE(n);
    Assembler a;
    filler(a, static_cast<unsigned>(n - 1));
    a.ret(SECCOMP_RET_ALLOW);
    auto p = a.finish();
    if (n <= kMaxInstructions) {
      ASSERT_TRUE(p.has_value()) << p.error().message;
      EXPECT_EQ(p.value().size(), n);
      EXPECT_EQ(run_ok(p.value(), call(0)), SECCOMP_RET_ALLOW);
    } else {
      expect_invalid(p, "4097 instructions");
    }
  }
  // Trampolines count: 4095 written plus one trampoline is too many.
  Assembler a;
  a.ld_abs(kOffsetNr);
  a.jeq(1, "t", "f");
  a.label("f");
  filler(a, static_cast<unsigned>(kMaxInstructions) - 4);
  a.ret(SECCOMP_RET_ERRNO | 1);
  a.label("t");
  a.ret(SECCOMP_RET_ALLOW);
  EXPECT_EQ(a.size(), kMaxInstructions);
  expect_invalid(a.finish(), "4097 with trampolines");
}

TEST(BpfAssembler, FreshNamesAreUnique) {
  Assembler a;
  EXPECT_NE(a.fresh("n"), a.fresh("n"));
  EXPECT_EQ(a.fresh("x").substr(0, 1), "x");
}

// Property: for random forward programs, the assembled program behaves as the
// labelled source does, whatever the trampolines.
struct SourceInsn {
  enum Kind { ld, ret, cond, ja } kind;
  std::uint16_t op = 0;  // BPF_JEQ/.. for cond
  std::uint32_t k = 0;
  std::string t, f;
};

std::uint32_t eval_source(const std::vector<SourceInsn>& src, const std::map<std::string, std::size_t>& labels,
                          const seccomp_data& d) {
  std::uint32_t acc = 0;
  std::uint32_t words[16];
  std::memcpy(words, &d, sizeof words);
  for (std::size_t pc = 0; pc < src.size();) {
    const auto& i = src[pc];
    switch (i.kind) {
      case SourceInsn::ld:
        acc = words[i.k / 4];
        ++pc;
        break;
      case SourceInsn::ret: return i.k;
      case SourceInsn::ja: pc = labels.at(i.t); break;
      case SourceInsn::cond: {
        bool taken = false;
        if (i.op == BPF_JEQ) taken = acc == i.k;
        if (i.op == BPF_JGT) taken = acc > i.k;
        if (i.op == BPF_JGE) taken = acc >= i.k;
        if (i.op == BPF_JSET) taken = (acc & i.k) != 0;
        pc = labels.at(taken ? i.t : i.f);
        break;
      }
    }
  }
  ADD_FAILURE() << "source fell off the end";
  return 0;
}

TEST(BpfAssembler, RandomProgramsKeepTheirMeaning) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    std::mt19937_64 rng(seed);
    const std::size_t n = std::uniform_int_distribution<std::size_t>(2, 1500)(rng);
    const unsigned reach = std::uniform_int_distribution<unsigned>(2, 800)(rng);
    // Every instruction carries a label L<index>; jumps pick targets ahead.
    std::vector<SourceInsn> src(n);
    std::map<std::string, std::size_t> labels;
    const auto ahead = [&](std::size_t i) {
      const std::size_t hi = std::min(n - 1, i + reach);
      return fmt::format("L{}", std::uniform_int_distribution<std::size_t>(i + 1, hi)(rng));
    };
    const std::uint16_t ops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};
    for (std::size_t i = 0; i < n; ++i) {
      labels[fmt::format("L{}", i)] = i;
      auto& s = src[i];
      const unsigned pick = i + 1 == n ? 0 : std::uniform_int_distribution<unsigned>(0, 9)(rng);
      if (pick == 0) {
        s = {SourceInsn::ret, 0, static_cast<std::uint32_t>(i), {}, {}};
      } else if (pick <= 3) {
        s = {SourceInsn::ld, 0, 4 * std::uniform_int_distribution<std::uint32_t>(0, 15)(rng), {}, {}};
      } else if (pick == 4) {
        s = {SourceInsn::ja, 0, 0, ahead(i), {}};
      } else {
        s = {SourceInsn::cond, ops[rng() % 4], std::uniform_int_distribution<std::uint32_t>(0, 4)(rng), ahead(i),
             ahead(i)};
      }
    }
    Assembler a;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& s = src[i];
      a.label(fmt::format("L{}", i));
      switch (s.kind) {
        case SourceInsn::ld: a.ld_abs(s.k); break;
        case SourceInsn::ret: a.ret(s.k); break;
        case SourceInsn::ja: a.ja(s.t); break;
        case SourceInsn::cond:
          if (s.op == BPF_JEQ) a.jeq(s.k, s.t, s.f);
          if (s.op == BPF_JGT) a.jgt(s.k, s.t, s.f);
          if (s.op == BPF_JGE) a.jge(s.k, s.t, s.f);
          if (s.op == BPF_JSET) a.jset(s.k, s.t, s.f);
          break;
      }
    }
    auto p = a.finish();
    ASSERT_TRUE(p.has_value()) << p.error().message;
    ASSERT_TRUE(validate(p.value()).has_value());
    for (int trial = 0; trial < 30; ++trial) {
      seccomp_data d{};
      std::uint32_t words[16];
      for (auto& w : words) w = std::uniform_int_distribution<std::uint32_t>(0, 5)(rng);
      std::memcpy(&d, words, sizeof d);
      const auto want = eval_source(src, labels, d);
      const auto got = run_ok(p.value(), d);
      ASSERT_EQ(got, want) << "trial " << trial << "\n" << disassemble(p.value());
    }
  }
}

}  // namespace
}  // namespace syscg::bpf
