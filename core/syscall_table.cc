#include "core/syscall_table.h"

#include "core/syscall_set.h"

#include <boost/container/flat_map.hpp>
#include <seccomp.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string>

namespace syscg::syscall_table {
namespace {

struct Table {
  std::array<std::string, kSyscallWidth> names;  // empty for gaps
  boost::container::flat_map<std::string, unsigned, std::less<>> numbers;
  unsigned highest = 0;

  Table() {
    for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
      // libseccomp returns a malloc()ed string, or NULL for a gap.
      std::unique_ptr<char, decltype(&std::free)> n(
          seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr)), &std::free);
      if (!n) continue;
      names[nr] = n.get();
      numbers.emplace(names[nr], nr);
      highest = nr;
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

std::optional<unsigned> number(std::string_view name) {
  const auto& t = table();
  if (auto it = t.numbers.find(name); it != t.numbers.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string_view> name(unsigned nr) {
  if (nr >= kSyscallWidth || table().names[nr].empty()) return std::nullopt;
  return table().names[nr];
}

unsigned highest_named() { return table().highest; }

}  // namespace syscg::syscall_table
