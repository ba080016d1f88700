#include "fs/state_codec.h"

#include "fs/inode.h"

#include "core/grammar.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <optional>
#include <sstream>

namespace syscg::fs {
namespace {

constexpr std::string_view kHeader = "syscg-state 1\n";

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::string hex_set(const SyscallSet& set) {
  std::string out(kSyscallWidth / 4, '0');
  std::array<unsigned, kSyscallWidth / 4> nibbles{};
  for (unsigned nr : set) nibbles[nr / 4] |= 1U << (nr % 4);
  for (std::size_t i = 0; i < nibbles.size(); ++i) out[i] = "0123456789abcdef"[nibbles[i]];
  return out;
}

std::optional<SyscallSet> parse_hex_set(std::string_view s) {
  if (s.size() != kSyscallWidth / 4) return std::nullopt;
  SyscallSet set;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned v = 0;
    if (std::from_chars(s.data() + i, s.data() + i + 1, v, 16).ec != std::errc{}) return std::nullopt;
    for (unsigned b = 0; b < 4; ++b)
      if (v & (1U << b)) (void)set.set(i * 4 + b);
  }
  return set;
}

// "max" or the number, without format_limit's newline.
std::string limit(int v) { return v == grammar::kUnlimited ? std::string("max") : std::to_string(v); }

std::string meta(const OwnerMode& m) { return fmt::format("{:o}:{}:{}", m.mode, m.uid, m.gid); }

std::optional<OwnerMode> parse_meta(const std::string& s) {
  OwnerMode m{};
  unsigned long mode = 0, uid = 0, gid = 0;
  char c1 = 0, c2 = 0;
  std::istringstream in(s);
  if (!(in >> std::oct >> mode >> c1 >> std::dec >> uid >> c2 >> gid) || c1 != ':' || c2 != ':' || mode > 07777)
    return std::nullopt;
  m.mode = static_cast<mode_t>(mode);
  m.uid = static_cast<uid_t>(uid);
  m.gid = static_cast<gid_t>(gid);
  return m;
}

std::optional<int> parse_limit(const std::string& s) {
  auto r = grammar::parse_limit(s);
  if (!r) return std::nullopt;
  return r.value();
}

Error corrupt(std::size_t line, std::string_view why) {
  return make_error(Errc::invalid, fmt::format("line {}: {}", line, why));
}

}  // namespace

std::string encode(const State& state) {
  std::string out(kHeader);
  for (const auto& g : state.groups) {
    std::string files;
    for (const auto& f : g.files) {
      files += ' ';  // not `" " + meta(f)`: GCC 12 -O3 warns falsely (-Wrestrict) on it
      files += meta(f);
    }
    out += fmt::format("group {} {} {} {}{} {}\n", hex_set(g.allowed), limit(g.max_depth), limit(g.max_descendants),
                       meta(g.dir), files, g.path);
  }
  for (const auto& m : state.members) out += fmt::format("member {} {} {}\n", m.pid, m.start_time, m.path);
  out += fmt::format("end {:016x}\n", fnv1a(out));
  return out;
}

Result<State> decode(std::string_view text) {
  if (!text.starts_with(kHeader)) return corrupt(1, "not a syscg state file (version 1)");
  const auto end = text.rfind("\nend ");
  if (end == std::string_view::npos || text.back() != '\n') return corrupt(0, "truncated: no end record");
  const auto body = text.substr(0, end + 1);
  if (text.substr(end + 5) != fmt::format("{:016x}\n", fnv1a(body))) return corrupt(0, "checksum mismatch");
  State state;
  std::istringstream in{std::string(body.substr(kHeader.size()))};
  std::size_t lineno = 1;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "group") {
      GroupRecord g{};
      std::string set, depth, desc, dir;
      fields >> set >> depth >> desc >> dir;
      auto allowed = parse_hex_set(set);
      auto d = parse_limit(depth), n = parse_limit(desc);
      auto dm = parse_meta(dir);
      if (!allowed || !d || !n || !dm) return corrupt(lineno, "malformed group record");
      g.allowed = *allowed;
      g.max_depth = *d;
      g.max_descendants = *n;
      g.dir = *dm;
      for (std::size_t i = 0; i < g.files.size(); ++i) {
        auto& f = g.files[i];
        fields >> std::ws;
        if (fields.peek() == '/') {  // an older file: fewer control files
          // syscalls.mode loosens as syscalls.allow does: it gets that
          // file's owner and mode (a delegate gets it only if it had that
          // one); the read-only ones 0444 and the directory's owner.
          const auto& allow = g.files[index_of(FileKind::syscalls_allow)];
          f = kControlFiles[i].kind == FileKind::mode ? allow : OwnerMode{0444, g.dir.uid, g.dir.gid};
          continue;
        }
        std::string m;
        fields >> m;
        auto fm = parse_meta(m);
        if (!fm) return corrupt(lineno, "malformed file mode");
        f = *fm;
      }
      fields >> std::ws;  // the space before the path
      std::getline(fields, g.path);
      if (!g.path.starts_with("/")) return corrupt(lineno, "malformed group path");
      state.groups.push_back(std::move(g));
    } else if (kind == "member") {
      MemberRecord m{};
      if (!(fields >> m.pid >> m.start_time) || m.pid <= 0) return corrupt(lineno, "malformed member record");
      fields.get();
      std::getline(fields, m.path);
      state.members.push_back(std::move(m));
    } else {
      return corrupt(lineno, fmt::format("unknown record '{}'", kind));
    }
  }
  if (state.groups.empty() || state.groups.front().path != "/") return corrupt(2, "the root group must come first");
  // The model's rules, so that restoring it cannot fail half-way.
  if (!state.groups.front().allowed.full()) return corrupt(2, "the root group must allow everything");
  std::map<std::string, const GroupRecord*> seen{{"/", &state.groups.front()}};
  for (std::size_t i = 1; i < state.groups.size(); ++i) {
    const auto& g = state.groups[i];
    const auto slash = g.path.rfind('/');
    const auto parent = seen.find(slash == 0 ? std::string("/") : g.path.substr(0, slash));
    const auto line = i + 2;
    if (parent == seen.end()) return corrupt(line, fmt::format("{}: its parent comes later or not at all", g.path));
    if (!grammar::check_group_name(g.path.substr(slash + 1))) return corrupt(line, "invalid group name");
    if (!g.allowed.is_subset_of(parent->second->allowed) || !g.allowed.test(kRestartSyscall))
      return corrupt(line, fmt::format("{}: its set is not within its parent's", g.path));
    if (!seen.emplace(g.path, &g).second) return corrupt(line, fmt::format("{}: listed twice", g.path));
  }
  for (const auto& m : state.members)
    if (!seen.contains(m.path)) return corrupt(0, fmt::format("member {}: no group {}", m.pid, m.path));
  return state;
}

}  // namespace syscg::fs
