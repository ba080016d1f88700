// Classic BPF programs for seccomp: the program type and the layout of the
// data a seccomp filter reads.
//
// Contract:
//  - A Program is a plain sequence of kernel sock_filter instructions, in the
//    order the kernel receives them (struct sock_fprog points at data()).
//  - A program the kernel accepts has 1..kMaxInstructions instructions and ends
//    in a ret; the assembler only produces such programs, the interpreter only
//    runs such programs.
//  - Field offsets refer to struct seccomp_data on x86_64 (little endian: the
//    low half of a 64-bit field comes first).
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syscg::bpf {

using Program = std::vector<sock_filter>;

inline constexpr std::size_t kMaxInstructions = BPF_MAXINSNS;  // 4096
static_assert(kMaxInstructions == 4096);

// Offsets of struct seccomp_data's fields, for ld [k].
inline constexpr std::uint32_t kOffsetNr = offsetof(seccomp_data, nr);
inline constexpr std::uint32_t kOffsetArch = offsetof(seccomp_data, arch);
inline constexpr std::uint32_t kOffsetIp = offsetof(seccomp_data, instruction_pointer);
inline constexpr std::uint32_t kDataSize = sizeof(seccomp_data);
static_assert(kOffsetNr == 0 && kOffsetArch == 4 && kOffsetIp == 8 && kDataSize == 64);

// Offsets of the low and high 32 bits of args[i], i < 6.
constexpr std::uint32_t arg_low(unsigned i) { return static_cast<std::uint32_t>(offsetof(seccomp_data, args)) + 8 * i; }
constexpr std::uint32_t arg_high(unsigned i) { return arg_low(i) + 4; }

// The name of the 32-bit word at `offset` ("nr", "arch", "ip.lo", "args[2].hi"),
// or nullopt if offset is not a word of seccomp_data.
std::optional<std::string> field_name(std::uint32_t offset);

// Instruction constructors (the kernel's BPF_STMT / BPF_JUMP without the casts).
constexpr sock_filter stmt(std::uint16_t code, std::uint32_t k) { return sock_filter{code, 0, 0, k}; }
constexpr sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

}  // namespace syscg::bpf
