#include "enforcer/bpf/interpreter.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace syscg::bpf {
namespace {

Error bad(std::size_t pc, std::string_view what) {
  return make_error(Errc::invalid, fmt::format("instruction {}: {}", pc, what));
}

bool is_cond_jump(std::uint16_t code) {
  if (BPF_CLASS(code) != BPF_JMP) return false;
  switch (BPF_OP(code)) {
    case BPF_JEQ:
    case BPF_JGT:
    case BPF_JGE:
    case BPF_JSET: return true;
    default: return false;
  }
}

// The opcode whitelist of the kernel's seccomp_check_filter().
bool known_opcode(std::uint16_t code) {
  switch (code) {
    case BPF_LD | BPF_W | BPF_ABS:
    case BPF_LD | BPF_W | BPF_LEN:
    case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LD | BPF_IMM:
    case BPF_LDX | BPF_IMM:
    case BPF_LD | BPF_MEM:
    case BPF_LDX | BPF_MEM:
    case BPF_ST:
    case BPF_STX:
    case BPF_MISC | BPF_TAX:
    case BPF_MISC | BPF_TXA:
    case BPF_ALU | BPF_NEG:
    case BPF_JMP | BPF_JA:
    case BPF_RET | BPF_K:
    case BPF_RET | BPF_A: return true;
    default: break;
  }
  if (BPF_CLASS(code) == BPF_ALU) {
    if ((code & ~(BPF_ALU | BPF_X | 0xf0)) != 0) return false;
    switch (BPF_OP(code)) {
      case BPF_ADD:
      case BPF_SUB:
      case BPF_MUL:
      case BPF_DIV:
      case BPF_AND:
      case BPF_OR:
      case BPF_XOR:
      case BPF_LSH:
      case BPF_RSH: return true;
      default: return false;  // BPF_MOD is classic BPF but not seccomp
    }
  }
  return is_cond_jump(code) && (code & ~(BPF_JMP | BPF_X | 0xf0)) == 0;
}

// Every instruction read by `code` from / written to the scratch memory.
bool reads_mem(std::uint16_t code) { return code == (BPF_LD | BPF_MEM) || code == (BPF_LDX | BPF_MEM); }
bool writes_mem(std::uint16_t code) { return code == BPF_ST || code == BPF_STX; }

}  // namespace

Status validate(const Program& p) {
  const std::size_t n = p.size();
  if (n == 0) return make_error(Errc::invalid, "empty program");
  if (n > kMaxInstructions)
    return make_error(Errc::invalid, fmt::format("{} instructions, more than {}", n, kMaxInstructions));

  // Scratch cells certainly stored on every path into each instruction (the
  // kernel's check_load_and_stores(): programs are DAGs in index order).
  std::vector<std::uint16_t> valid_in(n, 0xffff);
  std::uint16_t valid = 0;
  const auto reach = [&](std::size_t pc, std::uint64_t off) -> Status {
    const std::uint64_t to = pc + 1 + off;
    if (to >= n) return bad(pc, fmt::format("jumps to {}, past the end ({} instructions)", to, n));
    valid_in[to] &= valid;
    return outcome::success();
  };

  for (std::size_t pc = 0; pc < n; ++pc) {
    const sock_filter& i = p[pc];
    valid &= valid_in[pc];
    if (!known_opcode(i.code)) return bad(pc, fmt::format("unknown or forbidden opcode {:#06x}", i.code));
    if (i.code == (BPF_LD | BPF_W | BPF_ABS) && (i.k >= kDataSize || i.k % 4 != 0))
      return bad(pc, fmt::format("load of [{}]: outside seccomp_data or unaligned", i.k));
    if (reads_mem(i.code) || writes_mem(i.code)) {
      if (i.k >= BPF_MEMWORDS) return bad(pc, fmt::format("scratch cell M[{}] does not exist", i.k));
      const auto bit = static_cast<std::uint16_t>(1U << i.k);
      if (writes_mem(i.code)) valid |= bit;
      if (reads_mem(i.code) && (valid & bit) == 0)
        return bad(pc, fmt::format("M[{}] may be read before it is stored", i.k));
    }
    if (BPF_CLASS(i.code) == BPF_ALU && BPF_SRC(i.code) == BPF_K) {
      if (BPF_OP(i.code) == BPF_DIV && i.k == 0) return bad(pc, "division by zero");
      if ((BPF_OP(i.code) == BPF_LSH || BPF_OP(i.code) == BPF_RSH) && i.k >= 32)
        return bad(pc, fmt::format("shift by {}", i.k));
    }
    if (i.code == (BPF_JMP | BPF_JA)) {
      BOOST_OUTCOME_TRY(reach(pc, i.k));
      valid = 0xffff;  // nothing falls through a ja
    } else if (is_cond_jump(i.code)) {
      BOOST_OUTCOME_TRY(reach(pc, i.jt));
      BOOST_OUTCOME_TRY(reach(pc, i.jf));
      valid = 0xffff;
    }
  }
  if (BPF_CLASS(p.back().code) != BPF_RET) return bad(n - 1, "the last instruction is not a ret (falls off the end)");
  return outcome::success();
}

Result<std::uint32_t> run(const Program& p, const seccomp_data& data, Trace* trace) {
  BOOST_OUTCOME_TRY(validate(p));
  if (trace != nullptr) *trace = Trace{};

  std::array<std::uint32_t, kDataSize / 4> words{};
  std::memcpy(words.data(), &data, kDataSize);
  std::array<std::uint32_t, BPF_MEMWORDS> mem{};
  std::uint32_t a = 0;
  std::uint32_t x = 0;

  // validate() guarantees every jump lands inside the program and the last
  // instruction returns, so pc stays in range and the loop ends.
  for (std::size_t pc = 0;; ++pc) {
    const sock_filter& i = p[pc];
    if (trace != nullptr) ++trace->executed;
    const std::uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
      case BPF_LDX: {
        std::uint32_t v = 0;
        switch (BPF_MODE(i.code)) {
          case BPF_ABS:
            v = words[i.k / 4];
            if (trace != nullptr) trace->loads.push_back(i.k);
            break;
          case BPF_LEN: v = kDataSize; break;
          case BPF_IMM: v = i.k; break;
          default:  // BPF_MEM
            v = mem[i.k];
            break;
        }
        (BPF_CLASS(i.code) == BPF_LD ? a : x) = v;
        break;
      }
      case BPF_ST: mem[i.k] = a; break;
      case BPF_STX: mem[i.k] = x; break;
      case BPF_ALU:
        switch (BPF_OP(i.code)) {
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_MUL: a *= src; break;
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_XOR: a ^= src; break;
          case BPF_NEG: a = 0U - a; break;
          case BPF_DIV:
            if (src == 0) return bad(pc, "division by X == 0");
            a /= src;
            break;
          default:  // BPF_LSH, BPF_RSH
            if (src >= 32) return bad(pc, fmt::format("shift by X == {}", src));
            a = BPF_OP(i.code) == BPF_LSH ? a << src : a >> src;
            break;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(i.code) == BPF_JA) {
          pc += i.k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(i.code)) {
          case BPF_JEQ: taken = a == src; break;
          case BPF_JGT: taken = a > src; break;
          case BPF_JGE: taken = a >= src; break;
          default: taken = (a & src) != 0; break;  // BPF_JSET
        }
        pc += taken ? i.jt : i.jf;
        break;
      }
      case BPF_RET: return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      default:  // BPF_MISC
        if (BPF_MISCOP(i.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
    }
  }
}

}  // namespace syscg::bpf
