// Names in the mount: inode numbers and the control-file table.
//
// Tree: the mount's root directory is the root group; each group directory
// holds the control files of kControlFiles and its child groups.
//
// Inodes: a group directory's inode is its GroupId (the root's is 1, FUSE's
// root inode); a control file's is kFileInoBit | GroupId << 8 | kind. Ids are
// never reused, so an inode never names two objects.
#pragma once

#include "core/ids.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <sys/stat.h>

namespace syscg::fs {

// An inode number; the FUSE adapter passes fuse_ino_t through unchanged.
using Ino = std::uint64_t;
inline constexpr Ino kRootInode = 1;  // the root group's directory (FUSE_ROOT_ID)
inline constexpr Ino kFileInoBit = Ino{1} << 63;

enum class FileKind : std::uint8_t {
  dir = 0,
  syscalls_allow,
  syscalls_deny,
  procs,
  max_depth,
  max_descendants,
  stat,
  events,
  stricter,
  denied,
  warnings,
  mode,
  bpf,
  oci,
  systemd,
};

struct ControlFile {
  std::string_view name;
  FileKind kind;
  mode_t mode;   // for a group that is not the root
  bool in_root;  // the root group has this file too
};

// Append only: the state file keeps files' owners and modes in this order.
//  - syscalls.stricter: "PID NUMBERS REASON" per member that cannot use
//    NUMBERS although the group allows them (seccomp filters cannot be
//    removed); REASON is a token the README explains.
//  - syscalls.denied: "NR NAME COUNT" per number denied to the group's
//    members by the supervisor, since the daemon started.
//  - syscalls.warnings: "TAG SUBJECT FIX" per way the group's policy is
//    weaker than it reads (warnings.h).
//  - syscalls.mode: "enforce" or "complain" (core/hierarchy.h).
//  - syscalls.bpf / .oci / .systemd: the group's policy as a raw
//    struct sock_filter array (for bwrap --seccomp), an OCI linux.seccomp
//    object, SystemCallFilter= lines (core/formats/).
inline constexpr std::array<ControlFile, 14> kControlFiles{{
    {"cgroup.events", FileKind::events, 0444, false},
    {"cgroup.max.depth", FileKind::max_depth, 0644, true},
    {"cgroup.max.descendants", FileKind::max_descendants, 0644, true},
    {"cgroup.procs", FileKind::procs, 0644, true},
    {"cgroup.stat", FileKind::stat, 0444, true},
    {"syscalls.allow", FileKind::syscalls_allow, 0644, true},
    {"syscalls.deny", FileKind::syscalls_deny, 0644, true},
    {"syscalls.stricter", FileKind::stricter, 0444, true},
    {"syscalls.denied", FileKind::denied, 0444, true},
    {"syscalls.warnings", FileKind::warnings, 0444, true},
    {"syscalls.mode", FileKind::mode, 0644, true},
    {"syscalls.bpf", FileKind::bpf, 0444, true},
    {"syscalls.oci", FileKind::oci, 0444, true},
    {"syscalls.systemd", FileKind::systemd, 0444, true},
}};

struct InodeRef {
  GroupId group;
  FileKind kind;
};

constexpr Ino inode_of(GroupId group, FileKind kind) {
  if (kind == FileKind::dir) return group;
  return kFileInoBit | (group << 8) | static_cast<Ino>(kind);
}

constexpr InodeRef decode_inode(Ino ino) {
  if ((ino & kFileInoBit) == 0) return {ino, FileKind::dir};
  return {(ino & ~kFileInoBit) >> 8, static_cast<FileKind>(ino & 0xff)};
}

// The control file called `name`; null for any other name.
constexpr const ControlFile* find_control(std::string_view name) {
  for (const auto& f : kControlFiles)
    if (f.name == name) return &f;
  return nullptr;
}

// Its place in kControlFiles (and in the state file); 0 for dir.
constexpr std::size_t index_of(FileKind kind) {
  for (std::size_t i = 0; i < kControlFiles.size(); ++i)
    if (kControlFiles[i].kind == kind) return i;
  return 0;
}

constexpr bool is_policy_file(FileKind k) {
  return k == FileKind::syscalls_allow || k == FileKind::syscalls_deny || k == FileKind::mode;
}
constexpr bool is_read_only(FileKind k) {
  return k == FileKind::stat || k == FileKind::events || k == FileKind::stricter || k == FileKind::denied ||
         k == FileKind::warnings || k == FileKind::bpf || k == FileKind::oci || k == FileKind::systemd;
}

}  // namespace syscg::fs
