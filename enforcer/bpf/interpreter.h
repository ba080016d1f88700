// A strict in-process interpreter of classic BPF seccomp filters.
//
// For tests and tooling: it runs a filter over a struct seccomp_data without
// loading it anywhere, so a program's decisions can be checked exhaustively.
//
// Contract:
//  - validate() accepts exactly the programs it can run and rejects, with
//    Errc::invalid and the offending instruction's index, what the kernel's
//    seccomp attach check rejects: an empty program or one longer than
//    kMaxInstructions; an opcode outside seccomp's set (ld/ldx imm, mem and
//    len; ld [k] of 32-bit words; st/stx; alu add/sub/mul/div/and/or/xor/
//    lsh/rsh with k or x, neg; ja, jeq/jgt/jge/jset with k or x; ret k/a;
//    tax/txa); a load outside sizeof(seccomp_data) or not 4-byte aligned; a
//    scratch cell M[k] with k >= 16, or read before some path stores it; a
//    jump past the end; a last instruction that is not a ret (falling off the
//    end); division by the constant 0 or a shift by a constant >= 32.
//  - run() validates, then executes. At run time a division by X == 0 or a
//    shift by X >= 32 is Errc::invalid (the kernel would not fail loudly).
//  - The result is the 32-bit value returned (a SECCOMP_RET_* action).
#pragma once

#include "core/error.h"
#include "enforcer/bpf/program.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace syscg::bpf {

// What one run did, for tests and measurements.
struct Trace {
  std::vector<std::uint32_t> loads;  // offsets read by ld [k], in execution order
  std::size_t executed = 0;          // instructions executed, the final ret included
};

Status validate(const Program& program);

// `trace`, if given, is cleared and filled.
Result<std::uint32_t> run(const Program& program, const seccomp_data& data, Trace* trace = nullptr);

}  // namespace syscg::bpf
