#include "core/grammar.h"

#include "core/errno_names.h"
#include "core/syscall_groups.h"
#include "core/syscall_table.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

namespace syscg::grammar {
namespace {

constexpr std::string_view kSpace = " \t\n\v\f\r";

bool is_space(char c) { return kSpace.find(c) != std::string_view::npos; }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Status check_size(std::string_view text) {
  if (text.size() > kMaxWrite)
    return make_error(Errc::too_big, fmt::format("write of {} bytes exceeds {}", text.size(), kMaxWrite));
  return outcome::success();
}

// kstrtoint(s, 0, &v): optional sign, then "0x"/"0X" + hex digits, "0" + octal
// digits, or decimal. Overflow of int -> out_of_range.
Result<int> parse_c_int(std::string_view s) {
  const std::string_view whole = s;
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (s.empty() || end != s.data() + s.size() || ec == std::errc::invalid_argument)
    return make_error(Errc::invalid, fmt::format("'{}' is not a number", whole));
  const std::uint64_t bound = negative ? std::uint64_t{INT_MAX} + 1 : std::uint64_t{INT_MAX};
  if (ec == std::errc::result_out_of_range || magnitude > bound)
    return make_error(Errc::out_of_range, fmt::format("'{}' does not fit an int", whole));
  return negative ? static_cast<int>(-static_cast<std::int64_t>(magnitude)) : static_cast<int>(magnitude);
}

bool looks_numeric(std::string_view s) {
  return !s.empty() && (s.front() == '+' || s.front() == '-' || (s.front() >= '0' && s.front() <= '9'));
}

// One endpoint: a number in 0..width-1 or a native syscall name.
Result<unsigned> parse_value(std::string_view s) {
  if (looks_numeric(s)) {
    BOOST_OUTCOME_TRY(v, parse_c_int(s));
    if (v < 0 || !SyscallSet::in_range(static_cast<unsigned>(v)))
      return make_error(Errc::out_of_range, fmt::format("{} is outside 0..{}", v, kSyscallWidth - 1));
    return static_cast<unsigned>(v);
  }
  if (auto nr = syscall_table::number(s)) return *nr;
  return make_error(Errc::invalid, fmt::format("'{}' is not an x86_64 system call", s));
}

// Splits a command into tokens; a comma must stand between two tokens.
Result<std::vector<std::string_view>> tokenize(std::string_view text) {
  std::vector<std::string_view> tokens;
  bool comma_pending = true;  // at the start, a comma is as bad as after a comma
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
    } else if (text[i] == ',') {
      if (comma_pending) return make_error(Errc::invalid, "a comma must separate two tokens");
      comma_pending = true;
      ++i;
    } else {
      const std::size_t start = i;
      while (i < text.size() && !is_space(text[i]) && text[i] != ',') ++i;
      tokens.push_back(text.substr(start, i - start));
      comma_pending = false;
    }
  }
  if (tokens.empty()) return make_error(Errc::invalid, "empty command: name at least one system call");
  if (comma_pending) return make_error(Errc::invalid, "a comma must separate two tokens");
  return tokens;
}

}  // namespace

namespace {

// The numbers of one token without its errno: a value, a range, 'a'/'all'
// or a named set. `explicit_nr` is set for a single value (a deny naming
// restart_syscall that way is an error; ranges and sets skip it).
Result<SyscallSet> token_numbers(std::string_view tok, bool& explicit_nr) {
  explicit_nr = false;
  SyscallSet set;
  if (tok == "a" || tok == "all") return SyscallSet::all();
  if (tok.front() == '@') {
    if (auto named = syscall_groups::lookup(tok)) return *named;
    return make_error(Errc::invalid, fmt::format("'{}' is not a named set of system calls", tok));
  }
  // A '-' after the first character splits a range; a leading one is a sign.
  const auto dash = tok.find('-', 1);
  if (dash == std::string_view::npos) {
    BOOST_OUTCOME_TRY(nr, parse_value(tok));
    explicit_nr = true;
    BOOST_OUTCOME_TRY(set.set(nr));
    return set;
  }
  const auto lo_text = tok.substr(0, dash), hi_text = tok.substr(dash + 1);
  if (hi_text.empty() || hi_text.front() == '-' || hi_text.front() == '+' || lo_text.front() == '+' ||
      lo_text.front() == '-')
    return make_error(Errc::invalid, fmt::format("'{}' is not a range", tok));
  BOOST_OUTCOME_TRY(lo, parse_value(lo_text));
  BOOST_OUTCOME_TRY(hi, parse_value(hi_text));
  if (lo > hi) return make_error(Errc::invalid, fmt::format("range '{}' runs backwards", tok));
  BOOST_OUTCOME_TRY(set.set_range(lo, hi));
  return set;
}

}  // namespace

Result<ListWrite> parse_list_write(std::string_view text, ListFile file) {
  BOOST_OUTCOME_TRY(check_size(text));
  BOOST_OUTCOME_TRY(tokens, tokenize(text));
  ListWrite out;
  // Numbers given an errno by this write (EPERM included), to refuse one
  // number named twice with two different errnos.
  SyscallSet given;
  for (std::string_view tok : tokens) {
    int err = EPERM;
    if (const auto colon = tok.find(':'); colon != std::string_view::npos) {
      if (file == ListFile::allow) return make_error(Errc::invalid, fmt::format("'{}': an allow takes no errno", tok));
      const auto name = tok.substr(colon + 1);
      const auto parsed = errno_names::parse(name);
      if (!parsed)
        return make_error(
            Errc::invalid,
            fmt::format("'{}' is not an errno (a name such as ENOSYS, or 1..{} but 512..529)", name, kMaxErrno));
      err = *parsed;
      tok = tok.substr(0, colon);
      if (tok.empty()) return make_error(Errc::invalid, "an errno needs a system call before its ':'");
    }
    bool explicit_nr = false;
    BOOST_OUTCOME_TRY(set, token_numbers(tok, explicit_nr));
    if (file == ListFile::deny) {
      if (explicit_nr && set.test(kRestartSyscall))
        return make_error(Errc::invalid, "restart_syscall (219) is always allowed and cannot be denied");
      (void)set.reset(kRestartSyscall);
      for (unsigned nr : set& given)
        if (out.errnos.of(nr) != err)
          return make_error(Errc::invalid, fmt::format("{} is given two errnos in one write", nr));
      out.errnos.assign(set, err);
      given |= set;
    }
    out.numbers |= set;
  }
  return out;
}

Result<SyscallSet> parse_syscall_list(std::string_view text, ListFile file) {
  BOOST_OUTCOME_TRY(w, parse_list_write(text, file));
  return w.numbers;
}

std::string format_deny_list(const SyscallSet& denied, const DenyErrnos& errnos) {
  std::string out;
  for (unsigned nr : denied) {
    if (!out.empty()) out.push_back(' ');
    if (const int err = errnos.of(nr); err != EPERM)
      fmt::format_to(std::back_inserter(out), "{}:{}", nr, errno_names::name(err));
    else
      fmt::format_to(std::back_inserter(out), "{}", nr);
  }
  out.push_back('\n');
  return out;
}

std::string format_syscall_list(const SyscallSet& set) {
  std::string out;
  out.reserve(set.count() * 4 + 1);
  for (unsigned nr : set) {
    if (!out.empty()) out.push_back(' ');
    fmt::format_to(std::back_inserter(out), "{}", nr);
  }
  out.push_back('\n');
  return out;
}

std::string format_syscall_ranges(const SyscallSet& set) {
  std::string out;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    if (!set.test(nr)) continue;
    unsigned last = nr;
    while (last + 1 < kSyscallWidth && set.test(last + 1)) ++last;
    if (!out.empty()) out.push_back(',');
    if (last == nr)
      fmt::format_to(std::back_inserter(out), "{}", nr);
    else
      fmt::format_to(std::back_inserter(out), "{}-{}", nr, last);
    nr = last;
  }
  return out;
}

Result<bool> parse_mode(std::string_view text) {
  BOOST_OUTCOME_TRY(check_size(text));
  const auto s = strip(text);
  if (s == "enforce") return false;
  if (s == "complain") return true;
  return make_error(Errc::invalid, "syscalls.mode takes 'enforce' or 'complain'");
}

std::string format_mode(bool complain) { return complain ? "complain\n" : "enforce\n"; }

Result<int> parse_limit(std::string_view text) {
  BOOST_OUTCOME_TRY(check_size(text));
  const auto s = strip(text);
  if (s == "max") return kUnlimited;
  BOOST_OUTCOME_TRY(v, parse_c_int(s));
  if (v < 0) return make_error(Errc::out_of_range, fmt::format("limit {} is negative", v));
  return v;
}

Result<int> parse_pid(std::string_view text) {
  BOOST_OUTCOME_TRY(check_size(text));
  auto pid = parse_c_int(strip(text));
  if (!pid || pid.value() < 0) return make_error(Errc::invalid, fmt::format("'{}' is not a process id", strip(text)));
  return pid.value();
}

std::string format_limit(int limit) { return limit == kUnlimited ? std::string("max\n") : fmt::format("{}\n", limit); }

bool is_reserved_name(std::string_view name) { return name.starts_with("cgroup.") || name.starts_with("syscalls."); }

Status check_group_name(std::string_view name) {
  if (name.empty()) return make_error(Errc::invalid, "empty group name");
  if (name.size() > 255) return make_error(Errc::invalid, "group name longer than 255 bytes");
  if (name == "." || name == "..") return make_error(Errc::invalid, "'.' and '..' are not group names");
  if (name.find_first_of(std::string_view("/\n\0", 3)) != std::string_view::npos)
    return make_error(Errc::invalid, "a group name may not contain '/', newline or NUL");
  if (is_reserved_name(name))
    return make_error(Errc::invalid, fmt::format("'{}': names starting with cgroup. or syscalls. are reserved", name));
  return outcome::success();
}

}  // namespace syscg::grammar
