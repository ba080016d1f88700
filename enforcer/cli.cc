// syscg exec [-m MOUNT] GROUP -- CMD [ARGS...]
//
// Runs CMD as a member of GROUP, filtered from its first instruction, with
// the conventions of libcgroup's cgexec: the process joins the group by
// writing "0" to GROUP/cgroup.procs (syscgfs then makes it install the
// group's filter before the write returns) and execs CMD. CMD's exit status
// is passed through; syscg's own errors are one line on stderr, status 125
// (usage, group), 126 (CMD cannot be run) or 127 (CMD not found).
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

constexpr std::string_view kUsage = "usage: syscg exec [-m MOUNT] GROUP -- CMD [ARGS...]";

// One line on stderr (unbuffered), then the status. _Exit: once joined, the
// process runs under its group's filter, and exit handlers (a sanitizer's
// leak check among them: it clones a tracer that calls getppid) must not
// run into calls the group denies.
[[noreturn]] void die(int status, const std::string& message) {
  fmt::print(stderr, "syscg: {}\n", message);
  std::_Exit(status);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    fmt::print("{}\n  -m MOUNT   where syscgfs is mounted (default /run/syscg)\n", kUsage);
    return args.empty() ? 125 : 0;
  }
  if (args[0] != "exec") die(125, fmt::format("unknown command '{}'; {}", args[0], kUsage));
  std::string mount = "/run/syscg";
  std::size_t i = 1;
  if (i + 1 < args.size() && (args[i] == "-m" || args[i] == "--mount")) {
    mount = args[i + 1];
    i += 2;
  }
  if (i + 2 >= args.size() || args[i + 1] != "--") die(125, std::string(kUsage));
  std::string group(args[i]);
  while (!group.empty() && group.front() == '/') group.erase(0, 1);
  const char** cmd = const_cast<const char**>(argv + 1 + i + 2);

  const std::string procs = group.empty() ? mount + "/cgroup.procs" : fmt::format("{}/{}/cgroup.procs", mount, group);
  syscg::sys::UniqueFd fd(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) die(125, fmt::format("no group '{}' under {}", args[i], mount));
    die(125, fmt::format("cannot join {}: {}", args[i], std::strerror(errno)));
  }
  if (write(fd.get(), "0\n", 2) != 2) die(125, fmt::format("cannot join {}: {}", args[i], std::strerror(errno)));
  fd.reset();  // the write's result is the answer; close(2) has nothing more to say
  execvp(cmd[0], const_cast<char* const*>(cmd));
  die(errno == ENOENT ? 127 : 126, fmt::format("cannot run {}: {}", cmd[0], std::strerror(errno)));
}
