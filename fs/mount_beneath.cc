#include "fs/mount_beneath.h"

#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x00000200  // Linux 6.5; newer than Debian 12's headers
#endif

namespace syscg::fs {

Result<sys::UniqueFd> mount_beneath(const std::string& mountpoint) {
  sys::UniqueFd dev(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!dev) return sys::sys_error(Errc::io, "open /dev/fuse");
  sys::UniqueFd fs(::fsopen("fuse", FSOPEN_CLOEXEC));
  if (!fs) return sys::sys_error(Errc::io, "fsopen fuse");
  const std::string fd = fmt::format("{}", dev.get());
  // The options libfuse's mount(2) passes (lib/mount.c), one by one.
  const std::pair<const char*, const char*> strings[] = {
      {"source", "syscg"}, {"subtype", "syscg"}, {"fd", fd.c_str()}, {"rootmode", "40000"},  // S_IFDIR, octal
      {"user_id", "0"},    {"group_id", "0"},
  };
  for (const auto& [key, value] : strings)
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0) != 0)
      return sys::sys_error(Errc::io, fmt::format("fsconfig {}={}", key, value));
  for (const char* flag : {"allow_other", "default_permissions"})
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, flag, nullptr, 0) != 0)
      return sys::sys_error(Errc::io, fmt::format("fsconfig {}", flag));
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys::sys_error(Errc::io, "fsconfig create (fuse)");
  sys::UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  if (!mnt) return sys::sys_error(Errc::io, "fsmount");
  if (::move_mount(mnt.get(), "", AT_FDCWD, mountpoint.c_str(), MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH) != 0) {
    auto e = sys::sys_error(Errc::io, fmt::format("move_mount beneath {}", mountpoint));
    if (e.sys_errno == EINVAL) e.message += " (MOVE_MOUNT_BENEATH needs Linux 6.5)";
    return e;
  }
  return dev;
}

}  // namespace syscg::fs
