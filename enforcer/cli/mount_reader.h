// The CLI's reading of a syscgfs mount (tree, show, ps): plain file I/O
// under the mount, and parsers of the control files' formats (fs/inode.h,
// README "The filesystem").
//
// Contract:
//  - A group is named by its path below the mount: "/" is the root,
//    "/web/php" a group two levels down.
//  - Failures throw CliError: kFailed for a mount, group or file that cannot
//    be read (one line, naming it), kFailed for a line a parser does not
//    understand (naming the file and the line).
//  - Nothing here writes to the mount or reads anything outside it.
#pragma once

#include "core/ids.h"
#include "core/syscall_set.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syscg::cli::mount {

// GROUP as a user writes it ("web/php", "/web/php/", "/", "") as a group
// path ("/web/php", "/"); nullopt when a component is "." or "..".
std::optional<std::string> group_path(std::string_view group);
// The directory of group `path` under `mount`.
std::string group_dir(const std::string& mount, const std::string& path);

// Throws unless `mount` is a directory holding the root group's control files.
void check_mount(const std::string& mount);
// GROUP's path (group_path), after check_mount; throws "no group 'GROUP'
// under MOUNT" unless it names a group directory.
std::string require_group(const std::string& mount, std::string_view group);

// Every group's path: the root first, then depth first, children in name
// order. A group removed while the mount is walked is left out.
std::vector<std::string> groups(const std::string& mount);

// The text of control file `file` ("cgroup.procs") of group `path`; nullopt
// when the group is gone (ENOENT), which a walk tolerates.
std::optional<std::string> read_control(const std::string& mount, const std::string& path, std::string_view file);

// ---------------------------------------------------------------- parsers

// cgroup.procs: a pid per line.
std::vector<Pid> parse_procs(std::string_view text);

// syscalls.deny: numbers separated by spaces, each "NR" or "NR:ERRNO"
// (an errno name or decimal number, see core/errno_names.h); ascending.
struct DeniedNumber {
  unsigned nr;
  int err;  // EPERM unless the token names another
};
std::vector<DeniedNumber> parse_deny(std::string_view text);

// syscalls.warnings: "TAG SUBJECT FIX" (FIX: the rest of the line).
struct Warning {
  std::string tag, subject, fix;
};
std::vector<Warning> parse_warnings(std::string_view text);

// syscalls.stricter: "PID NUMBERS REASON", NUMBERS a range token ("59,62-64").
struct StricterMember {
  Pid pid;
  std::string ranges;  // NUMBERS as written
  SyscallSet numbers;
  std::string reason;
};
std::vector<StricterMember> parse_stricter(std::string_view text);

// syscalls.denied: "NR NAME COUNT" ("-" names an unnamed number).
struct DenialCount {
  unsigned nr;
  std::string name;
  std::uint64_t count;
};
std::vector<DenialCount> parse_denied(std::string_view text);

}  // namespace syscg::cli::mount
