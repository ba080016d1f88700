#include "enforcer/bpf/program.h"

#include <fmt/format.h>

namespace syscg::bpf {

std::optional<std::string> field_name(std::uint32_t offset) {
  if (offset % 4 != 0 || offset >= kDataSize) return std::nullopt;
  if (offset == kOffsetNr) return "nr";
  if (offset == kOffsetArch) return "arch";
  // Little endian: the first word of a 64-bit field is its low half.
  const char* half = offset % 8 == 0 ? "lo" : "hi";
  if (offset < arg_low(0)) return fmt::format("ip.{}", half);
  return fmt::format("args[{}].{}", (offset - arg_low(0)) / 8, half);
}

}  // namespace syscg::bpf
