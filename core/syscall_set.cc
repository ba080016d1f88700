#include "core/syscall_set.h"

#include <fmt/format.h>

namespace syscg {
namespace {

Status check_range(std::uint64_t first, std::uint64_t last) {
  if (first > last) return make_error(Errc::invalid, fmt::format("empty range {}-{}", first, last));
  if (!SyscallSet::in_range(last))
    return make_error(Errc::out_of_range, fmt::format("{} is not below the table width {}", last, kSyscallWidth));
  return outcome::success();
}

}  // namespace

Status SyscallSet::set(std::uint64_t nr) { return set_range(nr, nr); }
Status SyscallSet::reset(std::uint64_t nr) { return reset_range(nr, nr); }

Status SyscallSet::set_range(std::uint64_t first, std::uint64_t last) {
  BOOST_OUTCOME_TRY(check_range(first, last));
  for (auto nr = first; nr <= last; ++nr) words_[nr / kWordBits] |= std::uint64_t{1} << (nr % kWordBits);
  return outcome::success();
}

Status SyscallSet::reset_range(std::uint64_t first, std::uint64_t last) {
  BOOST_OUTCOME_TRY(check_range(first, last));
  for (auto nr = first; nr <= last; ++nr) words_[nr / kWordBits] &= ~(std::uint64_t{1} << (nr % kWordBits));
  return outcome::success();
}

}  // namespace syscg
