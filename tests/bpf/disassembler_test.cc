#include "enforcer/bpf/compiler.h"
#include "enforcer/bpf/disassembler.h"

#include <gtest/gtest.h>

#include <linux/audit.h>

#include <cerrno>

namespace syscg::bpf {
namespace {

TEST(BpfDisassembler, OneLinePerInstruction) {
  const Program p = {
      stmt(BPF_LD | BPF_W | BPF_ABS, kOffsetArch),
      jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      stmt(BPF_LD | BPF_W | BPF_ABS, arg_high(1)),
      jump(BPF_JMP | BPF_JGE | BPF_K, 0x200, 0, 1),
      jump(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 0),
      stmt(BPF_JMP | BPF_JA, 2),
      stmt(BPF_LD | BPF_IMM, 7),
      stmt(BPF_LDX | BPF_MEM, 3),
      stmt(BPF_ST, 3),
      stmt(BPF_STX, 4),
      stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),
      stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
      stmt(BPF_ALU | BPF_NEG, 0),
      stmt(BPF_MISC | BPF_TAX, 0),
      stmt(BPF_MISC | BPF_TXA, 0),
      stmt(BPF_LD | BPF_W | BPF_ABS, kOffsetIp),
      stmt(BPF_LD | BPF_W | BPF_ABS, 64),
      stmt(BPF_LD | BPF_W | BPF_LEN, 0),
      stmt(0x0106, 1),
      stmt(BPF_RET | BPF_A, 0),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 5),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      stmt(BPF_RET | BPF_K, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  EXPECT_EQ(disassemble(p),
            "0000: ld [4] (arch)\n"
            "0001: jeq #0xc000003e jt 3 jf 2\n"
            "0002: ret ERRNO(1)\n"
            "0003: ld [28] (args[1].hi)\n"
            "0004: jge #0x200 jt 5 jf 6\n"
            "0005: jset x jt 6 jf 6\n"
            "0006: ja 9\n"
            "0007: ld #0x7\n"
            "0008: ldx M[3]\n"
            "0009: st M[3]\n"
            "0010: stx M[4]\n"
            "0011: and #0xff\n"
            "0012: add x\n"
            "0013: neg\n"
            "0014: tax\n"
            "0015: txa\n"
            "0016: ld [8] (ip.lo)\n"
            "0017: ld [64]\n"
            "0018: ld len\n"
            "0019: .insn code=0x0106 jt=0 jf=0 k=0x1\n"
            "0020: ret a\n"
            "0021: ret TRAP(0x5)\n"
            "0022: ret KILL_PROCESS\n"
            "0023: ret 0x1\n"
            "0024: ret ALLOW\n");
}

TEST(BpfDisassembler, ActionNames) {
  EXPECT_EQ(action_name(SECCOMP_RET_ALLOW), "ALLOW");
  EXPECT_EQ(action_name(SECCOMP_RET_ERRNO | ENOSYS), "ERRNO(38)");
  EXPECT_EQ(action_name(SECCOMP_RET_KILL_THREAD), "KILL_THREAD");
  EXPECT_EQ(action_name(SECCOMP_RET_TRACE | 0x10), "TRACE(0x10)");
  EXPECT_EQ(action_name(SECCOMP_RET_LOG), "LOG");
  EXPECT_EQ(action_name(SECCOMP_RET_USER_NOTIF), "USER_NOTIF");
  EXPECT_EQ(action_name(0x12340000), "0x12340000");
}

TEST(BpfDisassembler, CompiledProgramReadsAsTheDocumentedShape) {
  auto set = SyscallSet::all();
  ASSERT_TRUE(set.reset(59).has_value());
  auto p = compile(set);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(disassemble(p.value()),
            "0000: ld [4] (arch)\n"
            "0001: jeq #0xc000003e jt 3 jf 2\n"
            "0002: ret ERRNO(1)\n"
            "0003: ld [0] (nr)\n"
            "0004: jset #0x40000000 jt 5 jf 6\n"
            "0005: ret ERRNO(1)\n"
            "0006: jge #0x200 jt 7 jf 8\n"
            "0007: ret ERRNO(38)\n"
            "0008: jge #0x3b jt 17 jf 9\n"
            "0009: jge #0x38 jt 11 jf 10\n"
            "0010: ret ALLOW\n"
            "0011: jge #0x39 jt 16 jf 12\n"  // clone: the guard
            "0012: ld [16] (args[0].lo)\n"
            "0013: jset #0x8000 jt 14 jf 15\n"
            "0014: ret ERRNO(1)\n"
            "0015: ret ALLOW\n"
            "0016: ret ALLOW\n"
            "0017: jge #0x1b3 jt 21 jf 18\n"
            "0018: jge #0x3c jt 20 jf 19\n"
            "0019: ret ERRNO(1)\n"  // execve, the one denied number
            "0020: ret ALLOW\n"
            "0021: jge #0x1b4 jt 23 jf 22\n"
            "0022: ret ERRNO(38)\n"  // clone3
            "0023: ret ALLOW\n");
}

}  // namespace
}  // namespace syscg::bpf
