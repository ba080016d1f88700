#include "core/error.h"

#include <cerrno>

namespace syscg {

int to_errno(Errc code) noexcept {
  switch (code) {
    case Errc::invalid: return EINVAL;
    case Errc::out_of_range: return ERANGE;
    case Errc::too_big: return E2BIG;
    case Errc::permission: return EPERM;
    case Errc::access: return EACCES;
    case Errc::not_found: return ENOENT;
    case Errc::no_process: return ESRCH;
    case Errc::exists: return EEXIST;
    case Errc::busy: return EBUSY;
    case Errc::limit: return EAGAIN;
    case Errc::handing_over: return EAGAIN;
    case Errc::not_dir: return ENOTDIR;
    case Errc::is_dir: return EISDIR;
    case Errc::io: return EIO;
  }
  return EIO;
}

std::string_view errno_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid: return "EINVAL";
    case Errc::out_of_range: return "ERANGE";
    case Errc::too_big: return "E2BIG";
    case Errc::permission: return "EPERM";
    case Errc::access: return "EACCES";
    case Errc::not_found: return "ENOENT";
    case Errc::no_process: return "ESRCH";
    case Errc::exists: return "EEXIST";
    case Errc::busy: return "EBUSY";
    case Errc::limit: return "EAGAIN";
    case Errc::handing_over: return "EAGAIN";
    case Errc::not_dir: return "ENOTDIR";
    case Errc::is_dir: return "EISDIR";
    case Errc::io: return "EIO";
  }
  return "EIO";
}

}  // namespace syscg
