// Human-readable listings of seccomp BPF programs, for debug output and test
// failure messages.
//
// Format: one line per instruction, "NNNN: <insn>\n", NNNN the zero-padded
// index; jump targets are absolute indices; constants are hex; loads of
// seccomp_data name their field; returned actions are named:
//   0000: ld [4] (arch)
//   0001: jeq #0xc000003e jt 3 jf 2
//   0002: ret ERRNO(1)
//   0006: jge #0x200 jt 7 jf 8
//   0012: ret ALLOW
// Anything the interpreter would reject is still printed (unknown opcodes as
// ".insn code=... jt=... jf=... k=...").
#pragma once

#include "enforcer/bpf/program.h"

#include <cstdint>
#include <string>

namespace syscg::bpf {

std::string disassemble(const Program& program);

// A SECCOMP_RET_* value by name: "ALLOW", "ERRNO(1)", "TRAP(0x5)",
// "KILL_PROCESS", ...; in hex ("0x1") when no name shows all its bits.
std::string action_name(std::uint32_t action);

}  // namespace syscg::bpf
