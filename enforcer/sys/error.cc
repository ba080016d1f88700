#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <cstring>

namespace syscg::sys {

Errc errc_of(int err) noexcept {
  switch (err) {
    case ESRCH:
    case ECHILD: return Errc::no_process;
    case EPERM:
    case EACCES: return Errc::permission;
    case EBUSY: return Errc::busy;
    case EAGAIN:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOSPC: return Errc::limit;
    case EINVAL: return Errc::invalid;
    default: return Errc::io;
  }
}

Error sys_error(Errc code, std::string_view what, int err) {
  const char* name = strerrorname_np(err);
  Error e = make_error(code, fmt::format("{}: {} ({})", what, std::strerror(err), name ? name : "?"));
  e.sys_errno = err;
  return e;
}

Error sys_error(std::string_view what, int err) { return sys_error(errc_of(err), what, err); }

}  // namespace syscg::sys
