// syscg exec [-m MOUNT] GROUP -- CMD [ARGS...]
//
// Runs CMD as a member of GROUP, filtered from its first instruction, with
// the conventions of libcgroup's cgexec: the process joins the group by
// writing "0" to GROUP/cgroup.procs (syscgfs then makes it install the
// group's filter before the write returns) and execs CMD. CMD's exit status
// is passed through; syscg's own errors are one line on stderr, status 125
// (usage, group), 126 (CMD cannot be run) or 127 (CMD not found).
#include "enforcer/cli/commands.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace syscg::cli {

namespace {

// One line on stderr (unbuffered), then the status. _Exit: once joined, the
// process runs under its group's filter, and exit handlers (a sanitizer's
// leak check among them: it clones a tracer that calls getppid) must not
// run into calls the group denies.
[[noreturn]] void die(int status, const std::string& message) {
  fmt::print(stderr, "syscg: {}\n", message);
  std::_Exit(status);
}

void run(const Common& common, std::string group) {
  if (common.command.empty())
    die(kExecOwnFailure, "exec needs a command; usage: syscg exec [-m MOUNT] GROUP -- CMD [ARGS...]");
  const std::string shown = group;
  while (!group.empty() && group.front() == '/') group.erase(0, 1);
  const std::string procs =
      group.empty() ? common.mount + "/cgroup.procs" : fmt::format("{}/{}/cgroup.procs", common.mount, group);
  sys::UniqueFd fd(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) die(125, fmt::format("no group '{}' under {}", shown, common.mount));
    die(125, fmt::format("cannot join {}: {}", shown, std::strerror(errno)));
  }
  if (write(fd.get(), "0\n", 2) != 2) die(125, fmt::format("cannot join {}: {}", shown, std::strerror(errno)));
  fd.reset();  // the write's result is the answer; close(2) has nothing more to say
  std::vector<char*> argv;
  for (const auto& a : common.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  die(errno == ENOENT ? 127 : 126, fmt::format("cannot run {}: {}", argv[0], std::strerror(errno)));
}

}  // namespace

void add_exec(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand("exec", "run CMD as a member of GROUP: syscg exec GROUP -- CMD [ARGS...]");
  auto group = std::make_shared<std::string>();
  sub->add_option("group", *group, "the group, as a path below the mount")->required();
  sub->callback([&common, group] { run(common, *group); });
}

}  // namespace syscg::cli
