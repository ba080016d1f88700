// syscg-model-demo: drives the core model with cgroupfs-like commands and
// prints what a shell user would see. A stand-in for the main job until the
// FUSE filesystem exists; not part of the syscg::core library.
//
//   syscg-model-demo                      run the built-in walkthrough
//   syscg-model-demo 'mkdir /web' ...     run the given commands
// Commands: mkdir PATH | rmdir PATH | echo TEXT > PATH/FILE | cat PATH/FILE
#include "core/grammar.h"
#include "core/hierarchy.h"

#include <fmt/format.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace syscg;

Result<GroupId> resolve(const Hierarchy& h, std::string_view path) {
  GroupId g = kRootGroup;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty()) continue;
    BOOST_OUTCOME_TRY(next, h.lookup(g, part));
    g = next;
  }
  return g;
}

std::pair<std::string_view, std::string_view> split_last(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Result<std::string> read_file(const Hierarchy& h, GroupId g, std::string_view file) {
  BOOST_OUTCOME_TRY(info, h.info(g));
  if (file == "syscalls.allow") return grammar::format_syscall_list(info.allowed);
  if (file == "syscalls.deny") return grammar::format_syscall_list(~info.allowed);
  if (file == "cgroup.max.depth") return grammar::format_limit(info.max_depth);
  if (file == "cgroup.max.descendants") return grammar::format_limit(info.max_descendants);
  return make_error(Errc::not_found, fmt::format("no control file '{}'", file));
}

Status write_file(Hierarchy& h, GroupId g, std::string_view file, std::string_view text) {
  if (file == "syscalls.allow" || file == "syscalls.deny") {
    const bool deny = file == "syscalls.deny";
    BOOST_OUTCOME_TRY(set, grammar::parse_syscall_list(text, deny ? grammar::ListFile::deny
                                                                  : grammar::ListFile::allow));
    return deny ? h.deny(g, set) : h.allow(g, set);
  }
  if (file == "cgroup.max.depth" || file == "cgroup.max.descendants") {
    BOOST_OUTCOME_TRY(limit, grammar::parse_limit(text));
    return file == "cgroup.max.depth" ? h.set_max_depth(g, limit) : h.set_max_descendants(g, limit);
  }
  return make_error(Errc::not_found, fmt::format("no control file '{}'", file));
}

Result<std::string> run(Hierarchy& h, std::string_view cmd) {
  if (cmd.starts_with("mkdir ")) {
    auto [dir, name] = split_last(cmd.substr(6));
    BOOST_OUTCOME_TRY(parent, resolve(h, dir));
    BOOST_OUTCOME_TRY(h.create(parent, name));
    return std::string();
  }
  if (cmd.starts_with("rmdir ")) {
    BOOST_OUTCOME_TRY(g, resolve(h, cmd.substr(6)));
    BOOST_OUTCOME_TRY(h.remove(g));
    return std::string();
  }
  if (cmd.starts_with("cat ")) {
    auto [dir, file] = split_last(cmd.substr(4));
    BOOST_OUTCOME_TRY(g, resolve(h, dir));
    return read_file(h, g, file);
  }
  if (cmd.starts_with("echo ") && cmd.find(" > ") != std::string_view::npos) {
    const auto gt = cmd.find(" > ");
    auto [dir, file] = split_last(cmd.substr(gt + 3));
    BOOST_OUTCOME_TRY(g, resolve(h, dir));
    BOOST_OUTCOME_TRY(write_file(h, g, file, std::string(cmd.substr(5, gt - 5)) + "\n"));
    return std::string();
  }
  return make_error(Errc::invalid, "unknown command");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> script(argv + 1, argv + argc);
  if (script.empty())
    script = {"mkdir /web",
              "mkdir /web/php",
              "echo 59 > /web/syscalls.deny",
              "cat /web/syscalls.deny",
              "cat /web/php/syscalls.deny",
              "echo execve > /web/php/syscalls.allow",
              "echo 300-310,ptrace > /web/php/syscalls.deny",
              "cat /web/php/syscalls.deny",
              "echo 59 > /web/syscalls.allow",
              "cat /web/syscalls.deny",
              "cat /web/php/syscalls.deny",
              "echo 219 > /web/syscalls.deny",
              "echo 512 > /web/syscalls.deny",
              "echo 1 > /syscalls.deny",
              "echo 0 > /web/cgroup.max.depth",
              "mkdir /web/more",
              "rmdir /web",
              "rmdir /web/php",
              "rmdir /web"};
  Hierarchy h;
  int status = 0;
  for (const auto& cmd : script) {
    fmt::print("$ {}\n", cmd);
    auto r = run(h, cmd);
    if (r) {
      fmt::print("{}", r.value());
    } else {
      fmt::print("{}: {} ({})\n", std::strerror(to_errno(r.error().code)), errno_name(r.error().code),
                 r.error().message);
      status = argc > 1 ? 1 : 0;
    }
  }
  return status;
}
