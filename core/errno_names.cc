#include "core/errno_names.h"

#include "core/deny_errnos.h"

#include <charconv>
#include <cstring>

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
  return std::nullopt;
}

std::string name(int err) {
  if (err > 0 && err < kNamedBelow)
    if (const char* n = strerrorname_np(err)) return n;
  return std::to_string(err);
}

}  // namespace syscg::errno_names
