// The saved state as database rows (pure: no I/O; store.h runs the ops).
//
// A group is a row keyed by a stable key (RowKey) with its parent's key and
// its name, so a change writes only the rows it changes: a rename or a leaf
// deny is one row, a mkdir one group row and its control files' rows. The
// tables (store.cc creates them; README "The state"):
//   groups(id, parent, name, denied, max_depth, max_descendants, mode, uid, gid, complain)
//   files(grp, name, mode, uid, gid)        -- the 10 control files of each group
//   members(pid, start_time, grp)           -- members moved in by a write
// `denied` is what the group's syscalls.deny would list, as numbers and
// ranges with their errnos where not EPERM ("59,300-310,435:ENOSYS", ""
// for none), a text syscalls.deny takes back; a NULL limit is "max".
#pragma once

#include "core/deny_errnos.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/syscall_set.h"
#include "fs/state_codec.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace syscg::fs {

// A group's key in the database: stable for the group's life, across
// restarts (the daemon's GroupIds are not). Positive; the root's is 1.
using RowKey = std::int64_t;
inline constexpr RowKey kRootKey = 1;

struct GroupRow {
  RowKey key;
  RowKey parent;     // 0 for the root
  std::string name;  // "" for the root
  SyscallSet allowed;
  DenyErrnos errnos;  // of the numbers `allowed` lacks
  bool complain;      // syscalls.mode
  int max_depth;
  int max_descendants;
  OwnerMode dir;
};

struct FileRow {
  RowKey group;
  std::string name;  // one of kControlFiles' names
  OwnerMode meta;
};

struct MemberRow {
  Pid pid;
  std::uint64_t start_time;
  RowKey group;
};

// The row operations a change turns into, applied in order in one
// transaction. Put* insert or replace one row; DropGroup deletes a group's
// row with its files' and its members' rows; DropAll deletes every row (the
// start of a whole-state write).
struct PutGroup {
  GroupRow row;
};
struct PutFile {
  FileRow row;
};
struct DropGroup {
  RowKey key;
};
struct PutMember {
  MemberRow row;
};
struct DropMember {
  Pid pid;
};
struct DropAll {};
using RowOp = std::variant<DropAll, PutGroup, PutFile, DropGroup, PutMember, DropMember>;

// The rows of a group's control files.
std::vector<RowOp> file_rows(RowKey group, const std::array<OwnerMode, kStateFiles>& files);

// A whole state's rows after a DropAll: state.groups[i] gets keys[i] (the
// root's first). Members of groups not in `state` are left out.
std::vector<RowOp> state_rows(const State& state, std::span<const RowKey> keys);

// The rows of a database, as read.
struct Rows {
  std::vector<GroupRow> groups;
  std::vector<FileRow> files;
  std::vector<MemberRow> members;
};

// A State with the key of each of its groups (keys[i] for groups[i]).
struct KeyedState {
  State state;
  std::vector<RowKey> keys;
};

// Checks the rows as decode() checks a text (one root allowing everything,
// every other group under it with a valid name unique in its parent and a
// set within its parent's, each group with its 10 files, members in listed
// groups) and orders them parents first, so that restoring them cannot fail
// half-way. No rows at all is the empty state (no groups). Errors: invalid,
// naming the row that is wrong.
Result<KeyedState> to_state(const Rows& rows);

// `denied` <-> the set a group allows and its errnos: "59,300-310,435:ENOSYS"
// lists what it denies.
struct DeniedColumn {
  SyscallSet allowed;
  DenyErrnos errnos;
};
std::string format_denied(const SyscallSet& allowed, const DenyErrnos& errnos);
std::optional<DeniedColumn> parse_denied(std::string_view text);

}  // namespace syscg::fs
