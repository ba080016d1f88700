// A small label assembler for classic BPF (seccomp) programs.
//
// Append statements and jumps to named labels in program order, name
// positions with label(), then finish() resolves the labels into a Program.
//
// Contract:
//  - label(name) names the instruction appended next. Every name is defined at
//    most once, every name a jump uses is defined, and it names an instruction
//    strictly after the jump (classic BPF only jumps forward); a label may not
//    stand at the very end of the program.
//  - Conditional jumps encode their targets in 8 bits (at most 255
//    instructions ahead). Where a target is farther, finish() places a `ja`
//    trampoline (32-bit offset) right after the jump and routes that branch
//    through it; the program's behaviour is unchanged.
//  - finish() fails with Errc::invalid, naming the label or instruction, on a
//    duplicate, undefined or backward label, on misuse (a jump opcode given to
//    stmt()), on an empty program, on a last instruction that is not a ret,
//    and when the result (trampolines included) exceeds kMaxInstructions.
//  - finish() does not consume the assembler: it may be called again.
#pragma once

#include "core/error.h"
#include "enforcer/bpf/program.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace syscg::bpf {

class Assembler {
 public:
  // A = the 32-bit word at data[offset].
  void ld_abs(std::uint32_t offset);
  // Return `value` (a SECCOMP_RET_* action) / return A.
  void ret(std::uint32_t value);
  void ret_a();
  // Any non-jump instruction, appended as is (for code the helpers above do
  // not cover: ld #k, alu, st, tax, ...).
  void stmt(std::uint16_t code, std::uint32_t k);

  // if (A <op> k) goto if_true; else goto if_false.
  void jeq(std::uint32_t k, std::string_view if_true, std::string_view if_false);
  void jgt(std::uint32_t k, std::string_view if_true, std::string_view if_false);
  void jge(std::uint32_t k, std::string_view if_true, std::string_view if_false);
  void jset(std::uint32_t k, std::string_view if_true, std::string_view if_false);
  // goto target.
  void ja(std::string_view target);

  // Names the next instruction.
  void label(std::string_view name);
  // A name no earlier call of fresh() returned: prefix + a counter. Callers
  // keep their own names free of the `prefix<digits>` shape they pass here.
  std::string fresh(std::string_view prefix);

  // Instructions appended so far (trampolines not counted).
  std::size_t size() const { return insns_.size(); }

  Result<Program> finish() const;

 private:
  static constexpr int kNoLabel = -1;
  struct Insn {
    sock_filter op;
    int jt = kNoLabel;  // label ids; ja uses jt only
    int jf = kNoLabel;
  };

  int intern(std::string_view name);
  void cond(std::uint16_t op, std::uint32_t k, std::string_view if_true, std::string_view if_false);

  std::vector<Insn> insns_;
  std::vector<std::string> names_;            // label id -> name
  std::vector<std::ptrdiff_t> positions_;     // label id -> instruction index, or -1
  std::unordered_map<std::string, int> ids_;  // name -> label id
  std::string misuse_;                        // the first misuse, reported by finish()
  unsigned fresh_counter_ = 0;
};

}  // namespace syscg::bpf
