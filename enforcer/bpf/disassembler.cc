#include "enforcer/bpf/disassembler.h"

#include <fmt/format.h>

#include <iterator>
#include <string_view>

namespace syscg::bpf {
namespace {

std::string_view alu_name(std::uint16_t op) {
  switch (op) {
    case BPF_ADD: return "add";
    case BPF_SUB: return "sub";
    case BPF_MUL: return "mul";
    case BPF_DIV: return "div";
    case BPF_OR: return "or";
    case BPF_AND: return "and";
    case BPF_LSH: return "lsh";
    case BPF_RSH: return "rsh";
    case BPF_NEG: return "neg";
    case BPF_MOD: return "mod";
    case BPF_XOR: return "xor";
    default: return {};
  }
}

std::string_view jump_name(std::uint16_t op) {
  switch (op) {
    case BPF_JEQ: return "jeq";
    case BPF_JGT: return "jgt";
    case BPF_JGE: return "jge";
    case BPF_JSET: return "jset";
    default: return {};
  }
}

// The text of one instruction, or an empty string if it is not one the
// listing knows.
std::string insn(std::size_t pc, const sock_filter& i) {
  if (i.code > 0xff) return {};  // classic BPF opcodes are 8 bits
  const std::string src = BPF_SRC(i.code) == BPF_X ? std::string("x") : fmt::format("#{:#x}", i.k);
  switch (BPF_CLASS(i.code)) {
    case BPF_LD:
    case BPF_LDX: {
      const std::string_view ld = BPF_CLASS(i.code) == BPF_LD ? "ld" : "ldx";
      if (BPF_SIZE(i.code) != BPF_W) return {};
      switch (BPF_MODE(i.code)) {
        case BPF_ABS: {
          const auto field = field_name(i.k);
          return field ? fmt::format("{} [{}] ({})", ld, i.k, *field) : fmt::format("{} [{}]", ld, i.k);
        }
        case BPF_IMM: return fmt::format("{} #{:#x}", ld, i.k);
        case BPF_MEM: return fmt::format("{} M[{}]", ld, i.k);
        case BPF_LEN: return fmt::format("{} len", ld);
        default: return {};
      }
    }
    case BPF_ST: return fmt::format("st M[{}]", i.k);
    case BPF_STX: return fmt::format("stx M[{}]", i.k);
    case BPF_ALU: {
      const auto name = alu_name(BPF_OP(i.code));
      if (name.empty()) return {};
      return BPF_OP(i.code) == BPF_NEG ? std::string(name) : fmt::format("{} {}", name, src);
    }
    case BPF_JMP: {
      if (BPF_OP(i.code) == BPF_JA) return fmt::format("ja {}", pc + 1 + i.k);
      const auto name = jump_name(BPF_OP(i.code));
      if (name.empty()) return {};
      return fmt::format("{} {} jt {} jf {}", name, src, pc + 1 + i.jt, pc + 1 + i.jf);
    }
    case BPF_RET:
      if (BPF_RVAL(i.code) == BPF_A) return "ret a";
      if (BPF_RVAL(i.code) == BPF_K) return fmt::format("ret {}", action_name(i.k));
      return {};
    default:  // BPF_MISC
      if (BPF_MISCOP(i.code) == BPF_TAX) return "tax";
      if (BPF_MISCOP(i.code) == BPF_TXA) return "txa";
      return {};
  }
}

}  // namespace

std::string action_name(std::uint32_t action) {
  const std::uint32_t data = action & SECCOMP_RET_DATA;
  // Actions whose data the kernel ignores are named only when the data is 0,
  // so that no bits of the value get lost in the listing.
  const auto plain = [&](const char* name) { return data == 0 ? std::string(name) : fmt::format("{:#x}", action); };
  switch (action & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS: return plain("KILL_PROCESS");
    case SECCOMP_RET_KILL_THREAD: return plain("KILL_THREAD");
    case SECCOMP_RET_TRAP: return fmt::format("TRAP({:#x})", data);
    case SECCOMP_RET_ERRNO: return fmt::format("ERRNO({})", data);
    case SECCOMP_RET_USER_NOTIF: return plain("USER_NOTIF");
    case SECCOMP_RET_TRACE: return fmt::format("TRACE({:#x})", data);
    case SECCOMP_RET_LOG: return plain("LOG");
    case SECCOMP_RET_ALLOW: return plain("ALLOW");
    default: return fmt::format("{:#x}", action);
  }
}

std::string disassemble(const Program& program) {
  std::string out;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& i = program[pc];
    auto text = insn(pc, i);
    if (text.empty()) text = fmt::format(".insn code={:#06x} jt={} jf={} k={:#x}", i.code, i.jt, i.jf, i.k);
    fmt::format_to(std::back_inserter(out), "{:04}: {}\n", pc, text);
  }
  return out;
}

}  // namespace syscg::bpf
