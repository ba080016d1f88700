// pidfds: the one handle on a process that a reused number cannot fool.
// glibc 2.36's <sys/pidfd.h> lacks extern "C", so the kernel is called
// directly. Invalid UniqueFds (errno set) on failure.
#pragma once

#include "core/ids.h"
#include "enforcer/sys/unique_fd.h"

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace syscg::enforcer {

// PIDFD_THREAD (include/uapi/linux/pidfd.h, Linux 6.9): a pidfd for one
// thread, whose fd table it reaches even when the leader is a zombie.
inline constexpr unsigned kPidfdThread = O_EXCL;

inline sys::UniqueFd open_pidfd(Pid pid, unsigned flags = 0) {
  return sys::UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, flags)));
}

// A copy of the process's fd `fd` (needs ptrace rights over it).
inline sys::UniqueFd take_fd(const sys::UniqueFd& pidfd, int fd) {
  return sys::UniqueFd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
}

// SIGKILL to the process the pidfd names (never to a reused number).
// False when it could not be sent (errno set; ESRCH: it has ended).
inline bool kill_by(const sys::UniqueFd& pidfd) {
  return pidfd && syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) == 0;
}

// True once the process has ended (its whole thread group); an error
// counts as ended.
inline bool has_ended(const sys::UniqueFd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return poll(&p, 1, 0) != 0;
}

}  // namespace syscg::enforcer
