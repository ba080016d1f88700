#include "core/formats/commands.h"

#include "core/errno_names.h"

#include <fmt/format.h>

#include <map>

namespace syscg::formats {

namespace {

void add_runs(const SyscallSet& s, const std::string& suffix, std::vector<std::string>& tokens) {
  for (auto it = s.begin(); it != s.end();) {
    const unsigned first = *it;
    unsigned last = first;
    while (++it != s.end() && *it == last + 1) last = *it;
    tokens.push_back((first == last ? std::to_string(first) : fmt::format("{}-{}", first, last)) + suffix);
  }
}

std::vector<std::string> pack(const std::vector<std::string>& tokens, std::size_t max_bytes) {
  std::vector<std::string> out;
  std::string cmd;
  for (const auto& t : tokens) {
    if (!cmd.empty() && cmd.size() + 1 + t.size() + 1 > max_bytes) {
      out.push_back(cmd + "\n");
      cmd.clear();
    }
    if (!cmd.empty()) cmd += ' ';
    cmd += t;
  }
  if (!cmd.empty()) out.push_back(cmd + "\n");
  return out;
}

}  // namespace

std::vector<std::string> deny_commands(const SyscallSet& allowed, const DenyErrnos& errnos, std::size_t max_bytes) {
  std::map<int, SyscallSet> by_errno;  // EPERM (1) sorts first
  for (unsigned nr : ~allowed)
    if (nr != kRestartSyscall) (void)by_errno[errnos.of(nr)].set(nr);
  std::vector<std::string> tokens;
  for (const auto& [err, nrs] : by_errno)
    add_runs(nrs, err == EPERM ? std::string() : fmt::format(":{}", errno_names::name(err)), tokens);
  return pack(tokens, max_bytes);
}

std::vector<std::string> allow_commands(const SyscallSet& allowed, std::size_t max_bytes) {
  std::vector<std::string> tokens;
  add_runs(allowed, "", tokens);
  return pack(tokens, max_bytes);
}

}  // namespace syscg::formats
