#include "enforcer/cli/mount_reader.h"

#include "core/errno_names.h"
#include "core/grammar.h"
#include "enforcer/cli/commands.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace syscg::cli::mount {

namespace {

[[noreturn]] void fail(const std::string& message) { throw CliError(kFailed, message); }

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

template <typename T>
std::optional<T> number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The non-empty lines of `text`.
std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (const auto line = text.substr(0, nl); !line.empty()) out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// `line` split at its first `n - 1` spaces: exactly n fields (the last takes
// the rest), or nullopt.
std::optional<std::vector<std::string_view>> fields(std::string_view line, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    out.push_back(line.substr(0, space));
    line.remove_prefix(space + 1);
  }
  out.push_back(line);
  if (std::ranges::any_of(out, [](std::string_view f) { return f.empty(); })) return std::nullopt;
  return out;
}

[[noreturn]] void malformed(std::string_view file, std::string_view line) {
  fail(fmt::format("{}: unexpected line '{}'", file, line));
}

// The child groups of `path`, sorted; nullopt when the group is gone.
std::optional<std::vector<std::string>> children(const std::string& mount, const std::string& path) {
  sys::UniqueDir dir(opendir(group_dir(mount, path).c_str()));
  if (!dir) {
    if (errno == ENOENT) return std::nullopt;  // removed while we walk
    fail(fmt::format("cannot list {}: {}", group_dir(mount, path), std::strerror(errno)));
  }
  std::vector<std::string> out;
  for (;;) {
    errno = 0;
    const dirent* entry = readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) fail(fmt::format("cannot list {}: {}", group_dir(mount, path), std::strerror(errno)));
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string child = path == "/" ? fmt::format("/{}", name) : fmt::format("{}/{}", path, name);
    // Control files are regular files, groups directories (d_type may be unknown).
    if (entry->d_type == DT_DIR || (entry->d_type == DT_UNKNOWN && is_dir(group_dir(mount, child))))
      out.push_back(child);
  }
  std::ranges::sort(out);
  return out;
}

void walk(const std::string& mount, const std::string& path, std::vector<std::string>& out) {
  const auto kids = children(mount, path);
  if (!kids) return;
  out.push_back(path);
  for (const auto& child : *kids) walk(mount, child, out);
}

}  // namespace

std::optional<std::string> group_path(std::string_view group) {
  std::string out;
  while (!group.empty()) {
    const auto slash = group.find('/');
    const auto part = group.substr(0, slash);
    if (part == "." || part == "..") return std::nullopt;
    if (!part.empty()) fmt::format_to(std::back_inserter(out), "/{}", part);
    if (slash == std::string_view::npos) break;
    group.remove_prefix(slash + 1);
  }
  return out.empty() ? "/" : out;
}

std::string group_dir(const std::string& mount, const std::string& path) { return path == "/" ? mount : mount + path; }

void check_mount(const std::string& mount) {
  if (!is_dir(mount) || !is_file(mount + "/cgroup.procs") || !is_file(mount + "/syscalls.deny"))
    fail(fmt::format("no syscgfs mount at {}", mount));
}

std::string require_group(const std::string& mount, std::string_view group) {
  check_mount(mount);
  const auto path = group_path(group);
  if (!path || !is_dir(group_dir(mount, *path)) || !is_file(group_dir(mount, *path) + "/syscalls.deny"))
    fail(fmt::format("no group '{}' under {}", group, mount));
  return *path;
}

std::vector<std::string> groups(const std::string& mount) {
  check_mount(mount);
  std::vector<std::string> out;
  walk(mount, "/", out);
  return out;
}

std::optional<std::string> read_control(const std::string& mount, const std::string& path, std::string_view file) {
  const std::string name = fmt::format("{}/{}", group_dir(mount, path), file);
  sys::UniqueFd fd(open(name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    fail(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOENT) return std::nullopt;  // the group went away under the open file
      fail(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

std::vector<Pid> parse_procs(std::string_view text) {
  std::vector<Pid> out;
  for (const auto line : lines(text)) {
    const auto pid = number<Pid>(line);
    if (!pid || *pid <= 0) malformed("cgroup.procs", line);
    out.push_back(*pid);
  }
  return out;
}

std::vector<DeniedNumber> parse_deny(std::string_view text) {
  std::vector<DeniedNumber> out;
  std::istringstream in{std::string(text)};
  for (std::string token; in >> token;) {
    const std::string_view t = token;
    const auto colon = t.find(':');
    const auto nr = number<unsigned>(t.substr(0, colon));
    const auto err =
        colon == std::string_view::npos ? std::optional<int>(EPERM) : errno_names::parse(t.substr(colon + 1));
    if (!nr || !err) fail(fmt::format("syscalls.deny: unexpected token '{}'", t));
    out.push_back({*nr, *err});
  }
  return out;
}

std::vector<Warning> parse_warnings(std::string_view text) {
  std::vector<Warning> out;
  for (const auto line : lines(text)) {
    const auto f = fields(line, 3);
    if (!f) malformed("syscalls.warnings", line);
    out.push_back({std::string((*f)[0]), std::string((*f)[1]), std::string((*f)[2])});
  }
  return out;
}

std::vector<StricterMember> parse_stricter(std::string_view text) {
  std::vector<StricterMember> out;
  for (const auto line : lines(text)) {
    const auto f = fields(line, 3);
    const auto pid = f ? number<Pid>((*f)[0]) : std::nullopt;
    auto numbers =
        f ? grammar::parse_syscall_list((*f)[1], grammar::ListFile::allow) : Result<SyscallSet>(SyscallSet{});
    if (!f || !pid || !numbers || (*f)[2].find(' ') != std::string_view::npos) malformed("syscalls.stricter", line);
    out.push_back({*pid, std::string((*f)[1]), numbers.value(), std::string((*f)[2])});
  }
  return out;
}

std::vector<DenialCount> parse_denied(std::string_view text) {
  std::vector<DenialCount> out;
  for (const auto line : lines(text)) {
    const auto f = fields(line, 3);
    const auto nr = f ? number<unsigned>((*f)[0]) : std::nullopt;
    const auto count = f ? number<std::uint64_t>((*f)[2]) : std::nullopt;
    if (!nr || !count || (*f)[1].find(' ') != std::string_view::npos) malformed("syscalls.denied", line);
    out.push_back({*nr, std::string((*f)[1]), *count});
  }
  return out;
}

}  // namespace syscg::cli::mount
