#include "core/formats/systemd.h"

#include "core/errno_names.h"
#include "core/syscall_table.h"

#include <fmt/format.h>

#include <iterator>
#include <map>

namespace syscg::formats {

namespace {
constexpr unsigned kClone3 = 435;

// "335-423 425" from a set.
std::string runs(const SyscallSet& s) {
  std::string out;
  for (auto it = s.begin(); it != s.end();) {
    const unsigned first = *it;
    unsigned last = first;
    while (++it != s.end() && *it == last + 1) last = *it;
    if (!out.empty()) out += ' ';
    out += first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
  }
  return out;
}
}  // namespace

std::string to_systemd(const SyscallSet& allowed, const DenyErrnos& errnos) {
  std::map<int, std::string> by_errno;  // errno -> "name name", EPERM first by its value (1)
  SyscallSet unnamed;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    if (nr == kRestartSyscall || (allowed.test(nr) && nr != kClone3)) continue;
    const int err = nr == kClone3 ? ENOSYS : errnos.of(nr);
    const auto name = syscall_table::name(nr);
    if (!name) {
      (void)unnamed.set(nr);
      continue;
    }
    auto& line = by_errno[err];
    if (!line.empty()) line += ' ';
    line += *name;
    if (err != EPERM) fmt::format_to(std::back_inserter(line), ":{}", errno_names::name(err));
  }
  std::string out = fmt::format("# syscg: denied numbers without a name (not expressible here): {}\n",
                                unnamed.empty() ? "none" : runs(unnamed));
  out += "SystemCallArchitectures=native\nSystemCallErrorNumber=EPERM\n";
  for (const auto& [err, names] : by_errno) fmt::format_to(std::back_inserter(out), "SystemCallFilter=~{}\n", names);
  return out;
}

}  // namespace syscg::formats
