// A restart's successor mounts its FUSE filesystem beneath the running
// daemon's mount (Linux >= 6.5: move_mount MOVE_MOUNT_BENEATH), so that the
// old daemon's unmount uncovers it at once: no moment where a path under the
// mount point answers ENOTCONN or ENOENT.
//
// mount_beneath() opens /dev/fuse, creates the filesystem with the new mount
// API (fsopen "fuse", subtype syscg, allow_other, default_permissions, root
// owned by uid/gid 0; nosuid, nodev, as libfuse mounts it) and moves it
// beneath the top mount at `mountpoint`. It returns the /dev/fuse fd, for
// fuse_session_mount(se, "/dev/fd/N"); the kernel has queued FUSE_INIT on
// it. The mount is then the caller's to unmount at exit (libfuse does not
// know its path). Errors (io, errno kept): the call that failed;
// MOVE_MOUNT_BENEATH unknown (EINVAL on kernels before 6.5) says so.
#pragma once

#include "core/error.h"
#include "enforcer/sys/unique_fd.h"

#include <string>

namespace syscg::fs {

Result<sys::UniqueFd> mount_beneath(const std::string& mountpoint);

}  // namespace syscg::fs
