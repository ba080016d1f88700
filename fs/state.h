// syscgfs's persistent state: the hierarchy, policies, limits, ownership and
// modes, and memberships, in one text file replaced atomically.
//
// Format (version 1), one record per line, parents before children:
//   syscg-state 1
//   group <allowed: 128 hex digits> <max.depth> <max.descendants> <meta> <meta>x7 <path>
//   member <pid> <start time> <path>
//   end <FNV-1a 64 of every byte before this line, hex>
// where <meta> is mode:uid:gid (octal mode) and <path> ("/a/b", "/" for the
// root) runs to the end of the line. A file that does not parse, whose
// checksum does not match, or that is cut short is corrupt: load() says where,
// and never returns a partial state.
//
// save() writes a temporary file in the same directory, fsyncs it, renames it
// over the old one and fsyncs the directory: after a crash the file holds the
// old state or the new one, never a mix.
#pragma once

#include "core/error.h"
#include "core/hierarchy.h"
#include "core/syscall_set.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace syscg::fs {

inline constexpr std::size_t kStateFiles = 10;  // == kControlFiles.size()

struct OwnerMode {
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

struct GroupRecord {
  std::string path;
  SyscallSet allowed;
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
// Errors: invalid, with the line that is wrong.
Result<State> decode(std::string_view text);

// Errors: invalid (I/O failure, with the system's message).
Status save(const std::string& path, const State& state);
// nullopt when there is no file yet. Errors: invalid (unreadable or corrupt).
Result<std::optional<State>> load(const std::string& path);

}  // namespace syscg::fs
