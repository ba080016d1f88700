#include "enforcer/bpf/disassembler.h"
#include "enforcer/bpf/interpreter.h"
#include "tests/bpf/util.h"

#include <gtest/gtest.h>

#include <string_view>

namespace syscg::bpf {
namespace {

using testing::call;

constexpr std::uint16_t kLdAbs = BPF_LD | BPF_W | BPF_ABS;
constexpr std::uint16_t kRetK = BPF_RET | BPF_K;

void expect_invalid(const Program& p, const seccomp_data& d, std::string_view mentions) {
  auto r = run(p, d);
  ASSERT_FALSE(r.has_value()) << "returned " << r.value() << "\n" << disassemble(p);
  EXPECT_EQ(r.error().code, Errc::invalid);
  EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
}
void expect_invalid(const Program& p, std::string_view mentions) {
  expect_invalid(p, call(0), mentions);
  EXPECT_FALSE(validate(p).has_value());
}

std::uint32_t run_ok(const Program& p, const seccomp_data& d) {
  auto r = run(p, d);
  EXPECT_TRUE(r.has_value()) << r.error().message << "\n" << disassemble(p);
  return r ? r.value() : 0xdeadbeef;
}

TEST(BpfInterpreter, LoadsEveryWordOfSeccompData) {
  const auto d = call(59, {0x1111111122222222, 0, 0, 0, 0, 0xaaaaaaaabbbbbbbb});
  const std::pair<std::uint32_t, std::uint32_t> cases[] = {
      {kOffsetNr, 59},          {kOffsetArch, AUDIT_ARCH_X86_64}, {kOffsetIp, 0x00001234},  {kOffsetIp + 4, 0x7f00},
      {arg_low(0), 0x22222222}, {arg_high(0), 0x11111111},        {arg_low(5), 0xbbbbbbbb}, {arg_high(5), 0xaaaaaaaa}};
  for (auto [offset, want] : cases) {
    SCOPED_TRACE(offset);
    const Program p = {stmt(kLdAbs, offset), stmt(BPF_RET | BPF_A, 0)};
    Trace t;
    auto r = run(p, d, &t);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r.value(), want);
    EXPECT_EQ(t.loads, std::vector<std::uint32_t>{offset});
    EXPECT_EQ(t.executed, 2U);
  }
}

TEST(BpfInterpreter, AluJumpsMemoryAndMisc) {
  // ((nr + 3) * 4 - 2) / 2 ^ 1, through X and M[], then compared with X forms.
  const Program p = {
      stmt(kLdAbs, kOffsetNr),                   // 0: A = nr
      stmt(BPF_ALU | BPF_ADD | BPF_K, 3),        // 1
      stmt(BPF_LDX | BPF_IMM, 4),                // 2: X = 4
      stmt(BPF_ALU | BPF_MUL | BPF_X, 0),        // 3
      stmt(BPF_ALU | BPF_SUB | BPF_K, 2),        // 4
      stmt(BPF_LDX | BPF_IMM, 2),                // 5
      stmt(BPF_ALU | BPF_DIV | BPF_X, 0),        // 6
      stmt(BPF_ALU | BPF_XOR | BPF_K, 1),        // 7
      stmt(BPF_ST, 3),                           // 8: M[3] = A
      stmt(BPF_MISC | BPF_TAX, 0),               // 9: X = A
      stmt(BPF_LD | BPF_IMM, 0),                 // 10: A = 0
      stmt(BPF_MISC | BPF_TXA, 0),               // 11: A = X
      stmt(BPF_ALU | BPF_LSH | BPF_K, 4),        // 12
      stmt(BPF_ALU | BPF_RSH | BPF_K, 4),        // 13
      stmt(BPF_ALU | BPF_OR | BPF_K, 0x100),     // 14
      stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),     // 15
      jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 2),  // 16: A == X ?
      stmt(BPF_LD | BPF_MEM, 3),                 // 17: A = M[3]
      stmt(BPF_RET | BPF_A, 0),                  // 18
      stmt(BPF_ALU | BPF_NEG, 0),                // 19
      stmt(BPF_RET | BPF_A, 0),                  // 20
  };
  // nr = 5: ((8 * 4) - 2) / 2 = 15, ^ 1 = 14; A == X -> ret M[3] = 14.
  EXPECT_EQ(run_ok(p, call(5)), 14U);
  // nr = 100: (103 * 4 - 2) / 2 = 205 ^ 1 = 204 < 256, so still equal.
  EXPECT_EQ(run_ok(p, call(100)), 204U);
  // nr = 200: 405 ^ 1 = 404 = 0x194; & 0xff = 0x94 != X -> neg.
  EXPECT_EQ(run_ok(p, call(200)), 0U - 0x94U);

  const Program jumps = {
      stmt(kLdAbs, kOffsetNr),                    // 0
      stmt(BPF_LDX | BPF_IMM, 10),                // 1
      jump(BPF_JMP | BPF_JGT | BPF_X, 0, 4, 0),   // 2: nr > 10 -> 7
      jump(BPF_JMP | BPF_JGE | BPF_X, 0, 2, 0),   // 3: nr >= 10 -> 6
      jump(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1),  // 4: nr & 10 -> 5 else 6?
      stmt(kRetK, 1),                             // 5
      stmt(kRetK, 2),                             // 6
      stmt(kRetK, 3),                             // 7
  };
  EXPECT_EQ(run_ok(jumps, call(11)), 3U);
  EXPECT_EQ(run_ok(jumps, call(10)), 2U);
  EXPECT_EQ(run_ok(jumps, call(2)), 1U);
  EXPECT_EQ(run_ok(jumps, call(5)), 2U);
  EXPECT_EQ(
      run_ok({stmt(BPF_LDX | BPF_W | BPF_LEN, 0), stmt(BPF_MISC | BPF_TXA, 0), stmt(BPF_RET | BPF_A, 0)}, call(0)),
      64U);
}

TEST(BpfInterpreter, TraceCountsExecutedInstructions) {
  const Program p = {stmt(kLdAbs, kOffsetArch), jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
                     stmt(BPF_JMP | BPF_JA, 1), stmt(kRetK, 7),
                     stmt(kLdAbs, arg_high(2)), stmt(kRetK, 8)};
  Trace t;
  ASSERT_EQ(run(p, call(0, {}, 1), &t).value(), 8U);
  EXPECT_EQ(t.executed, 5U);
  EXPECT_EQ(t.loads, (std::vector<std::uint32_t>{kOffsetArch, arg_high(2)}));
  ASSERT_EQ(run(p, call(0, {}, 2), &t).value(), 7U);  // the trace is reset
  EXPECT_EQ(t.executed, 3U);
  EXPECT_EQ(t.loads, std::vector<std::uint32_t>{kOffsetArch});
}

TEST(BpfInterpreter, RejectsBadSizes) {
  expect_invalid(Program{}, "empty program");
  Program big(kMaxInstructions + 1, stmt(kRetK, 0));
  expect_invalid(big, "more than 4096");
  big.pop_back();
  EXPECT_EQ(run_ok(big, call(0)), 0U);
}

TEST(BpfInterpreter, RejectsLoadsOutsideOrUnaligned) {
  for (std::uint32_t k : {64U, 68U, 0xfffffffcU, 2U, 61U}) {
    SCOPED_TRACE(k);
    expect_invalid({stmt(kLdAbs, k), stmt(kRetK, 0)}, "outside seccomp_data or unaligned");
  }
  EXPECT_EQ(run_ok({stmt(kLdAbs, 60), stmt(BPF_RET | BPF_A, 0)}, call(0, {0, 0, 0, 0, 0, 0x500000000})), 5U);
  // Byte/half loads, indirect loads and ldx [k] are not seccomp instructions.
  for (std::uint16_t code : {BPF_LD | BPF_B | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_W | BPF_IND,
                             BPF_LDX | BPF_W | BPF_ABS, BPF_LDX | BPF_B | BPF_MSH}) {
    SCOPED_TRACE(code);
    expect_invalid({stmt(code, 0), stmt(kRetK, 0)}, "opcode");
  }
}

TEST(BpfInterpreter, RejectsJumpsPastTheEnd) {
  expect_invalid({stmt(BPF_JMP | BPF_JA, 1), stmt(kRetK, 0)}, "past the end");
  expect_invalid({stmt(BPF_JMP | BPF_JA, 0xffffffff), stmt(kRetK, 0)}, "past the end");
  expect_invalid({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), stmt(kRetK, 0)}, "past the end");
  expect_invalid({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), stmt(kRetK, 0)}, "past the end");
  // Even on a branch that this call would not take.
  expect_invalid({jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0), stmt(kRetK, 0)}, call(0), "past the end");
}

TEST(BpfInterpreter, RejectsFallingOffTheEnd) {
  expect_invalid({stmt(kLdAbs, 0)}, "falls off the end");
  expect_invalid({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), stmt(kRetK, 0), stmt(kLdAbs, 0)}, "falls off the end");
}

TEST(BpfInterpreter, RejectsDivisionByZeroAndWideShifts) {
  expect_invalid({stmt(BPF_ALU | BPF_DIV | BPF_K, 0), stmt(kRetK, 0)}, "division by zero");
  const Program div_x = {stmt(kLdAbs, kOffsetNr), stmt(BPF_MISC | BPF_TAX, 0), stmt(BPF_LD | BPF_IMM, 100),
                         stmt(BPF_ALU | BPF_DIV | BPF_X, 0), stmt(BPF_RET | BPF_A, 0)};
  EXPECT_EQ(run_ok(div_x, call(7)), 14U);
  expect_invalid(div_x, call(0), "division by X == 0");
  expect_invalid({stmt(BPF_ALU | BPF_LSH | BPF_K, 32), stmt(kRetK, 0)}, "shift by 32");
  const Program shift_x = {stmt(kLdAbs, kOffsetNr), stmt(BPF_MISC | BPF_TAX, 0), stmt(BPF_LD | BPF_IMM, 1),
                           stmt(BPF_ALU | BPF_LSH | BPF_X, 0), stmt(BPF_RET | BPF_A, 0)};
  EXPECT_EQ(run_ok(shift_x, call(31)), 0x80000000U);
  expect_invalid(shift_x, call(32), "shift by X == 32");
}

TEST(BpfInterpreter, RejectsUnknownOpcodes) {
  for (std::uint16_t code :
       {std::uint16_t{BPF_ALU | BPF_MOD | BPF_K}, std::uint16_t{BPF_ALU | BPF_NEG | BPF_X},
        std::uint16_t{BPF_ALU | 0xe0}, std::uint16_t{BPF_JMP | 0x50}, std::uint16_t{BPF_RET | 0x18},
        std::uint16_t{BPF_MISC | 0x40}, std::uint16_t{0x0106}, std::uint16_t{0xffff}}) {
    SCOPED_TRACE(code);
    expect_invalid({stmt(code, 1), stmt(kRetK, 0)}, "opcode");
  }
}

TEST(BpfInterpreter, RejectsScratchMisuse) {
  expect_invalid({stmt(BPF_ST, 16), stmt(kRetK, 0)}, "M[16] does not exist");
  expect_invalid({stmt(BPF_LD | BPF_MEM, 0), stmt(BPF_RET | BPF_A, 0)}, "M[0] may be read before");
  // Stored on one branch only: the merge point may read garbage.
  expect_invalid(
      {jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), stmt(BPF_STX, 2), stmt(BPF_LDX | BPF_MEM, 2), stmt(kRetK, 0)},
      "M[2] may be read before");
  // Stored before the branch: fine on both.
  EXPECT_EQ(run_ok({stmt(BPF_LD | BPF_IMM, 9), stmt(BPF_ST, 2), jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
                    stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_LD | BPF_MEM, 2), stmt(BPF_RET | BPF_A, 0)},
                   call(0)),
            9U);
}

}  // namespace
}  // namespace syscg::bpf
