// Errno names ("ENOSYS") and numbers, as glibc names them
// (strerrorname_np): the one errno naming of the project, for the control
// files, the exporters and the CLI.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace syscg::errno_names {

// Whether a policy may return `err`: 1..kMaxErrno, except the kernel's
// internal restart codes 512..529 (ERESTARTSYS, ERESTART_RESTARTBLOCK, ...:
// include/linux/errno.h). Returned by a filter or a supervisor they reach
// the signal path as if a system call had been interrupted: the call is
// restarted (to be denied again, or as restart_syscall, which resumes
// another call's restart block) instead of failing.
bool allowed(int err);
// "ENOSYS" -> 38 (and glibc's aliases: EWOULDBLOCK, EDEADLOCK, ENOTSUP); a
// number written in decimal ("38") is accepted too, when allowed(). nullopt
// for anything else.
std::optional<int> parse(std::string_view text);
// 38 -> "ENOSYS"; the decimal number when glibc has no name for it.
std::string name(int err);

}  // namespace syscg::errno_names
