// Typed errors of the pure core and the single mapping onto errno.
//
// Every fallible core operation returns Result<T>: a value or an Error that
// carries a kind (Errc) and a one-line context message. The kind alone decides
// the errno a FUSE caller or CLI user sees; to_errno() below is the only place
// where that mapping lives.
#pragma once

#include <boost/outcome.hpp>

#include <string>
#include <string_view>

namespace syscg {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

enum class Errc {
  invalid,       // malformed input, bad name, forbidden token       -> EINVAL
  out_of_range,  // a number outside its domain                      -> ERANGE
  too_big,       // a control write longer than the page size        -> E2BIG
  permission,    // the hierarchy forbids it (allow beyond parent)   -> EPERM
  access,        // the caller lacks the right (delegation, uid)     -> EACCES
  not_found,     // no such group                                    -> ENOENT
  no_process,    // no such process                                  -> ESRCH
  exists,        // a group of that name exists                      -> EEXIST
  busy,          // group has children or members; root removal      -> EBUSY
  limit,         // max.depth / max.descendants reached              -> EAGAIN
  not_dir,       // a directory operation on a control file          -> ENOTDIR
  is_dir,        // a file operation on a group directory            -> EISDIR
  io,            // the state could not be saved                     -> EIO
  handing_over,  // a restart hands the daemon over: retry (fs)      -> EAGAIN
};

struct Error {
  Errc code;
  std::string message;  // context for a log line or a CLI message
  int sys_errno = 0;    // the kernel's errno when a system call failed (sys::sys_error), else 0

  friend bool operator==(const Error& a, const Error& b) { return a.code == b.code; }
};

template <class T>
using Result = outcome::result<T, Error, outcome::policy::terminate>;
using Status = Result<void>;

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

// The one errno mapping of the project.
int to_errno(Errc code) noexcept;
// A stable short name for logs and test output ("EINVAL", ...).
std::string_view errno_name(Errc code) noexcept;

}  // namespace syscg
