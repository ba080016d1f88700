#include "core/errno_names.h"

#include "core/deny_errnos.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace syscg::errno_names {

namespace {
// strerrorname_np names every errno glibc knows (2.36: up to EHWPOISON,
// 133); larger numbers are valid errnos without a name.
constexpr int kNamedBelow = 256;
}  // namespace

bool allowed(int err) { return err >= 1 && err <= kMaxErrno && (err < 512 || err > 529); }

std::optional<int> parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() >= '0' && text.front() <= '9') {
    int v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
    if (ec != std::errc{} || end != text.data() + text.size() || !allowed(v)) return std::nullopt;
    return v;
  }
  for (int e = 1; e < kNamedBelow; ++e)
    if (const char* n = strerrorname_np(e); n && text == n) return e;
  // glibc's second names for the same numbers (strerrorname_np gives the
  // first); systemd and Docker profiles use them.
  static constexpr std::pair<std::string_view, int> kAliases[] = {
      {"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};
  for (const auto& [alias, e] : kAliases)
    if (text == alias) return e;
  return std::nullopt;
}

std::string name(int err) {
  if (err > 0 && err < kNamedBelow)
    if (const char* n = strerrorname_np(err)) return n;
  return std::to_string(err);
}

}  // namespace syscg::errno_names
