// syscg import [-m MOUNT] [--widen|--narrow] [--cap CAP]... [--kernel X.Y] GROUP FILE
//
// Applies an OCI / Docker / Security-Profiles-Operator seccomp profile to a
// group of the mount (core/formats/oci.h says what a profile becomes):
//  1. prints what syscg cannot express, "syscg: dropped: LINE" on stderr;
//     refuses (status 1, the rules listed) a profile with argument conditions
//     unless --widen or --narrow says what to make of them;
//  2. writes GROUP/syscalls.deny with every number the profile denies (runs
//     grouped by errno, "A-B:ERRNO"; several writes when one would pass
//     4096 bytes), then GROUP/syscalls.allow with what it allows. Deny goes
//     first so that the group is never looser than both its old policy and
//     the profile. If the allow fails (the parent denies something the
//     profile allows: EPERM), the group stays stricter than the profile;
//  3. prints one summary line on stdout.
// Without --kernel, includes/excludes' minKernel is compared with the
// running kernel (uname), as Docker does.
#include "enforcer/cli/commands.h"

#include "core/errno_names.h"
#include "core/formats/commands.h"
#include "core/formats/oci.h"
#include "core/grammar.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace syscg::cli {

namespace {

struct Options {
  std::string group, file, kernel;
  std::vector<std::string> caps;
  bool widen = false, narrow = false;
};

std::string read_profile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw CliError(kFailed, fmt::format("import: cannot read {}: {}", file, std::strerror(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw CliError(kFailed, fmt::format("import: cannot read {}: {}", file, std::strerror(errno)));
  return s.str();
}

// One write(2) of `text`: 0 or the errno.
int write_control(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, text.data(), text.size());
  int err = n < 0 ? errno : (static_cast<std::size_t>(n) == text.size() ? 0 : EIO);
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

// What a group's syscalls.allow lists.
SyscallSet parent_allows(const std::string& file) {
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw CliError(kFailed, fmt::format("import: cannot read {}", file));
  if (text.find_first_not_of(" \n") == std::string::npos) return SyscallSet::none();
  auto set = grammar::parse_syscall_list(text, grammar::ListFile::allow);
  if (!set) throw CliError(kFailed, fmt::format("import: {}: {}", file, set.error().message));
  return set.value();
}

void run(const Common& common, const Options& o) {
  formats::ImportOptions options;
  options.caps = o.caps;
  options.conditional = o.widen    ? formats::Conditional::widen
                        : o.narrow ? formats::Conditional::narrow
                                   : formats::Conditional::refuse;
  if (!o.kernel.empty()) {
    options.kernel = o.kernel;
  } else if (utsname u{}; ::uname(&u) == 0) {
    options.kernel = u.release;
  }

  const std::string text = read_profile(o.file);
  auto imported = formats::from_oci(text, options);
  if (!imported) {
    const std::string& m = imported.error().message;
    if (options.conditional == formats::Conditional::refuse && m.find('\n') != std::string::npos)
      throw CliError(kFailed, fmt::format("import: {}: {}\nsyscg: nothing was written; --widen allows such calls "
                                          "whatever their arguments, --narrow denies them",
                                          o.file, m));
    throw CliError(kFailed, fmt::format("import: {}: {}", o.file, m));
  }
  const auto& policy = imported.value();

  std::string group = o.group;
  while (!group.empty() && group.front() == '/') group.erase(0, 1);
  const std::string dir = group.empty() ? common.mount : common.mount + "/" + group;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || ::access((dir + "/syscalls.deny").c_str(), F_OK) != 0)
    throw CliError(kFailed, fmt::format("no group '{}' under {}", o.group, common.mount));
  for (const auto& line : policy.dropped) fmt::print(stderr, "syscg: dropped: {}\n", line);
  // Nothing is written when the parent denies what the profile allows: the
  // allow would be refused after the denies went in. (A parent tightened
  // between this look and the writes still leaves the group stricter.)
  if (const auto slash = group.rfind('/'); !group.empty()) {
    const std::string parent = slash == std::string::npos ? common.mount : common.mount + "/" + group.substr(0, slash);
    const auto beyond = SyscallSet(policy.allowed).subtract(parent_allows(parent + "/syscalls.allow"));
    if (!beyond.empty())
      throw CliError(kFailed, fmt::format("import: the parent of {} denies {} that the profile allows; nothing was "
                                          "written",
                                          o.group, grammar::format_syscall_ranges(beyond)));
  }

  for (const auto& cmd : formats::deny_commands(policy.allowed, policy.errnos))
    if (const int err = write_control(dir + "/syscalls.deny", cmd))
      throw CliError(kFailed, fmt::format("import: {}/syscalls.deny: {} ({}); the group may be partly changed", o.group,
                                          std::strerror(err), errno_names::name(err)));
  for (const auto& cmd : formats::allow_commands(policy.allowed)) {
    if (const int err = write_control(dir + "/syscalls.allow", cmd)) {
      const std::string why =
          err == EPERM ? "its parent denies some of what the profile allows" : "the mount refused the allow";
      throw CliError(kFailed, fmt::format("import: {}/syscalls.allow: {} ({}): {}; the group now denies all the "
                                          "profile denies and is left stricter than the profile",
                                          o.group, std::strerror(err), errno_names::name(err), why));
    }
  }
  const std::size_t denied = kSyscallWidth - policy.allowed.count();
  fmt::print("{}: {} allowed, {} denied ({} with an errno other than EPERM), {} dropped\n", o.group,
             policy.allowed.count(), denied, policy.errnos.numbers().count(), policy.dropped.size());
}

}  // namespace

void add_import(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand("import",
                                 "apply an OCI / Docker seccomp profile (JSON) to GROUP: "
                                 "syscg import [--widen|--narrow] [--cap CAP]... [--kernel X.Y] GROUP FILE");
  auto o = std::make_shared<Options>();
  auto* widen = sub->add_flag("--widen", o->widen,
                              "a rule with argument conditions applies whatever the arguments "
                              "if it allows, and is ignored if it denies");
  auto* narrow = sub->add_flag("--narrow", o->narrow,
                               "a rule with argument conditions applies whatever the "
                               "arguments if it denies, and is ignored if it allows");
  widen->excludes(narrow);
  sub->add_option("--cap", o->caps,
                  "a capability the processes have, for the profile's includes/excludes "
                  "(CAP_SYS_ADMIN); repeatable")
      ->allow_extra_args(false);
  sub->add_option("--kernel", o->kernel, "the kernel version X.Y for minKernel (default: the running kernel's)");
  sub->add_option("group", o->group, "the group, as a path below the mount")->required();
  sub->add_option("file", o->file, "the profile (JSON)")->required();
  sub->callback([&common, o] { run(common, *o); });
}

}  // namespace syscg::cli
