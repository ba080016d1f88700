// Errors from system calls: the Errc the caller's user sees, the errno the
// kernel gave, and the call that failed, carried unchanged to the one place
// that logs or replies (core/error.h's Error).
#pragma once

#include "core/error.h"

#include <cerrno>
#include <string_view>

namespace syscg::sys {

// The Errc for an errno from a system call on a process or a file:
// ESRCH/ECHILD -> no_process, EPERM/EACCES -> permission, EBUSY -> busy,
// EAGAIN/ENOMEM/EMFILE/ENFILE/ENOSPC -> limit, EINVAL -> invalid, else io.
Errc errc_of(int err) noexcept;

// An Error for the system call `what` that just failed with `err` (errno by
// default): "what: strerror (ENAME)", kind `code`.
Error sys_error(Errc code, std::string_view what, int err = errno);
// As above, the kind chosen by errc_of(err).
Error sys_error(std::string_view what, int err = errno);

}  // namespace syscg::sys
