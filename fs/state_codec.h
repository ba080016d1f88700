// The persistent state's model and its text (pure: no I/O; state.h reads
// and writes the file).
//
// Format (version 1), one record per line, parents before children:
//   syscg-state 1
//   group <allowed: 128 hex digits> <max.depth> <max.descendants> <dir meta> <file meta>x10 <path>
//   member <pid> <start time> <path>
//   end <FNV-1a 64 of every byte before this line, hex>
// where <meta> is mode:uid:gid (octal mode) and <path> ("/a/b", "/" for the
// root) runs to the end of the line. Text that does not parse, whose
// checksum does not match, or that is cut short is corrupt: decode() says
// where, and never returns a partial state.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/deny_errnos.h"
#include "core/syscall_set.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace syscg::fs {

inline constexpr std::size_t kStateFiles = 14;  // == kControlFiles.size()
// The files a state written before syscalls.mode lists (version 1, and
// databases of user_version 2); the upgrade gives syscalls.mode the owner
// and mode of syscalls.allow, the read-only exports 0444 and the
// directory's owner.
inline constexpr std::size_t kStateFilesV2 = 10;

struct OwnerMode {
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

struct GroupRecord {
  std::string path;
  SyscallSet allowed;
  DenyErrnos errnos;  // not in the version-1 text (every deny there is EPERM)
  bool complain;      // syscalls.mode; not in the version-1 text (enforce)
  int max_depth;
  int max_descendants;
  OwnerMode dir;
  // In kControlFiles order. A file written by an older syscgfs lists fewer:
  // the missing (newer, read-only) files get 0444 and the directory's owner.
  std::array<OwnerMode, kStateFiles> files;
};

struct MemberRecord {
  Pid pid;
  std::uint64_t start_time;  // with the pid, names one process
  std::string path;
};

struct State {
  std::vector<GroupRecord> groups;  // the root first, parents before children
  std::vector<MemberRecord> members;
};

std::string encode(const State& state);
// Also checks the model's rules (the root first and allowing everything,
// parents before children, each set within its parent's, members in listed
// groups), so that restoring a decoded state cannot fail half-way.
// Errors: invalid, with the line that is wrong.
Result<State> decode(std::string_view text);

}  // namespace syscg::fs
