#include "enforcer/bpf/assembler.h"

#include <fmt/format.h>

#include <utility>

namespace syscg::bpf {
namespace {

constexpr std::size_t kMaxCondOffset = 255;  // jt/jf are 8 bits

bool is_jump(std::uint16_t code) { return BPF_CLASS(code) == BPF_JMP; }

}  // namespace

void Assembler::ld_abs(std::uint32_t offset) { stmt(BPF_LD | BPF_W | BPF_ABS, offset); }
void Assembler::ret(std::uint32_t value) { stmt(BPF_RET | BPF_K, value); }
void Assembler::ret_a() { stmt(BPF_RET | BPF_A, 0); }

void Assembler::stmt(std::uint16_t code, std::uint32_t k) {
  if (is_jump(code) && misuse_.empty())
    misuse_ = fmt::format("instruction {}: stmt() given jump opcode {:#x}; use the jump helpers", insns_.size(), code);
  insns_.push_back({bpf::stmt(code, k)});
}

void Assembler::jeq(std::uint32_t k, std::string_view t, std::string_view f) { cond(BPF_JEQ, k, t, f); }
void Assembler::jgt(std::uint32_t k, std::string_view t, std::string_view f) { cond(BPF_JGT, k, t, f); }
void Assembler::jge(std::uint32_t k, std::string_view t, std::string_view f) { cond(BPF_JGE, k, t, f); }
void Assembler::jset(std::uint32_t k, std::string_view t, std::string_view f) { cond(BPF_JSET, k, t, f); }

void Assembler::cond(std::uint16_t op, std::uint32_t k, std::string_view if_true, std::string_view if_false) {
  insns_.push_back({jump(BPF_JMP | op | BPF_K, k, 0, 0), intern(if_true), intern(if_false)});
}

void Assembler::ja(std::string_view target) { insns_.push_back({bpf::stmt(BPF_JMP | BPF_JA, 0), intern(target)}); }

void Assembler::label(std::string_view name) {
  const int id = intern(name);
  auto& pos = positions_[static_cast<std::size_t>(id)];
  if (pos >= 0) {
    if (misuse_.empty())
      misuse_ = fmt::format("label '{}' defined twice (instructions {} and {})", name, pos, insns_.size());
    return;
  }
  pos = static_cast<std::ptrdiff_t>(insns_.size());
}

std::string Assembler::fresh(std::string_view prefix) { return fmt::format("{}{}", prefix, fresh_counter_++); }

int Assembler::intern(std::string_view name) {
  auto [it, inserted] = ids_.try_emplace(std::string(name), static_cast<int>(names_.size()));
  if (inserted) {
    names_.emplace_back(name);
    positions_.push_back(-1);
  }
  return it->second;
}

Result<Program> Assembler::finish() const {
  const auto invalid = [](std::string msg) { return make_error(Errc::invalid, std::move(msg)); };
  if (!misuse_.empty()) return invalid(misuse_);
  if (insns_.empty()) return invalid("empty program");

  const std::size_t n = insns_.size();
  // Label checks first, on the program as written: the messages then speak of
  // the caller's instruction indices.
  for (std::size_t i = 0; i < n; ++i) {
    for (int id : {insns_[i].jt, insns_[i].jf}) {
      if (id == kNoLabel) continue;
      const auto& name = names_[static_cast<std::size_t>(id)];
      const auto pos = positions_[static_cast<std::size_t>(id)];
      if (pos < 0) return invalid(fmt::format("instruction {}: label '{}' is never defined", i, name));
      if (static_cast<std::size_t>(pos) <= i)
        return invalid(fmt::format("instruction {}: jump to label '{}' at {} goes backward", i, name, pos));
      if (static_cast<std::size_t>(pos) == n)
        return invalid(fmt::format("instruction {}: label '{}' is at the end of the program", i, name));
    }
  }
  if (BPF_CLASS(insns_.back().op.code) != BPF_RET)
    return invalid(fmt::format("instruction {}: the last instruction must be a ret", n - 1));

  // Trampolines. A far branch of instruction i goes to a `ja` placed right
  // after i (the jt trampoline first). Inserting one only lengthens jumps that
  // span it, so mark far branches until nothing changes: each branch is marked
  // at most once, hence this terminates, and a marked branch never needs more
  // than offset 1.
  std::vector<std::uint8_t> far_t(n, 0);
  std::vector<std::uint8_t> far_f(n, 0);
  std::vector<std::size_t> at(n + 1);  // instruction index -> index in the output
  const auto target = [&](int id) { return at[static_cast<std::size_t>(positions_[static_cast<std::size_t>(id)])]; };
  const auto is_cond = [&](std::size_t i) { return is_jump(insns_[i].op.code) && BPF_OP(insns_[i].op.code) != BPF_JA; };
  for (bool changed = true; changed;) {
    for (std::size_t i = 0, out = 0; i <= n; ++i) {
      at[i] = out;
      if (i < n) out += 1 + far_t[i] + far_f[i];
    }
    changed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_cond(i)) continue;
      for (auto [far, id] : {std::pair{&far_t[i], insns_[i].jt}, std::pair{&far_f[i], insns_[i].jf}}) {
        if (*far == 0 && target(id) - at[i] - 1 > kMaxCondOffset) {
          *far = 1;
          changed = true;
        }
      }
    }
  }
  if (at[n] > kMaxInstructions) {
    const auto with = at[n] == n ? std::string() : fmt::format(" ({} with trampolines)", at[n]);
    return invalid(fmt::format("program has {} instructions{}, more than {}", n, with, kMaxInstructions));
  }

  Program out;
  out.reserve(at[n]);
  for (std::size_t i = 0; i < n; ++i) {
    sock_filter op = insns_[i].op;
    const auto offset = [&](int id) { return target(id) - at[i] - 1; };
    if (is_jump(op.code) && BPF_OP(op.code) == BPF_JA) {
      op.k = static_cast<std::uint32_t>(offset(insns_[i].jt));
      out.push_back(op);
      continue;
    }
    if (!is_cond(i)) {
      out.push_back(op);
      continue;
    }
    op.jt = static_cast<std::uint8_t>(far_t[i] ? 0 : offset(insns_[i].jt));
    op.jf = static_cast<std::uint8_t>(far_f[i] ? far_t[i] : offset(insns_[i].jf));
    out.push_back(op);
    const auto trampoline = [&](int id) {
      const std::size_t p = out.size();
      out.push_back(bpf::stmt(BPF_JMP | BPF_JA, static_cast<std::uint32_t>(target(id) - p - 1)));
    };
    if (far_t[i]) trampoline(insns_[i].jt);
    if (far_f[i]) trampoline(insns_[i].jf);
  }
  return out;
}

}  // namespace syscg::bpf
