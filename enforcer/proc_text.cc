#include "enforcer/proc_text.h"

#include <charconv>

namespace syscg::enforcer {
namespace {

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The next space-separated field of `s`, removed from it.
std::string_view next_field(std::string_view& s) {
  s = skip_blanks(s);
  const auto end = s.find(' ');
  const std::string_view field = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  return field;
}

}  // namespace

std::optional<std::uint64_t> parse_number(std::string_view text, int base, std::string_view* rest) {
  text = skip_blanks(text);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{}) return std::nullopt;
  if (rest) *rest = text.substr(static_cast<std::size_t>(end - text.data()));
  return value;
}

std::optional<ProcStat> parse_stat(std::string_view text) {
  const auto close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close_paren + 1);
  ProcStat st;
  // Field 3 onwards.
  for (int field = 3; field <= 22; ++field) {
    const std::string_view f = next_field(rest);
    if (f.empty()) return std::nullopt;
    switch (field) {
      case 3:
        if (f.size() != 1) return std::nullopt;
        st.state = f[0];
        break;
      case 4: {
        const auto v = parse_number(f);
        if (!v) return std::nullopt;
        st.ppid = static_cast<Pid>(*v);
        break;
      }
      case 9: {
        const auto v = parse_number(f);
        if (!v) return std::nullopt;
        st.flags = static_cast<unsigned long>(*v);
        break;
      }
      case 22: {
        const auto v = parse_number(f);
        if (!v) return std::nullopt;
        st.start_time = *v;
        break;
      }
      default: break;
    }
  }
  return st;
}

std::optional<std::string_view> status_field(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto eol = text.find('\n', at);
    const std::string_view line = text.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':')
      return skip_blanks(line.substr(key.size() + 1));
    if (eol == std::string_view::npos) break;
    at = eol + 1;
  }
  return std::nullopt;
}

std::optional<Range> parse_maps_range(std::string_view line) {
  std::string_view rest;
  const auto lo = parse_number(line, 16, &rest);
  if (!lo || rest.empty() || rest.front() != '-') return std::nullopt;
  const auto hi = parse_number(rest.substr(1), 16);
  if (!hi || *hi < *lo) return std::nullopt;
  return Range{*lo, *hi};
}

}  // namespace syscg::enforcer
