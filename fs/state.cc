#include "fs/state.h"

#include "enforcer/sys/error.h"
#include "enforcer/sys/unique_fd.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

// Every failure here is the system's: io, with the call and its errno.
Error io_error(const std::string& what) { return sys::sys_error(Errc::io, what); }

Status write_all(int fd, std::string_view text, const std::string& what) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write " + what);
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return outcome::success();
}

}  // namespace

Status save(const std::string& path, const State& state) {
  const std::string text = encode(state);
  const std::string tmp = path + ".tmp";
  {
    sys::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return io_error("open " + tmp);
    BOOST_OUTCOME_TRY(write_all(fd.get(), text, tmp));
    if (::fsync(fd.get()) != 0) return io_error("fsync " + tmp);
    // close(2) cannot lose data that fsync has written.
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename " + tmp + " to " + path);
  // The rename itself must reach the disk before the change is acknowledged.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  sys::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return io_error("open " + dir);
  if (::fsync(dfd.get()) != 0) return io_error("fsync " + dir);
  return outcome::success();
}

Result<std::optional<State>> load(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<State>{};
    return io_error("open " + path);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read " + path);
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  BOOST_OUTCOME_TRY(state, decode(text));
  return std::optional<State>(std::move(state));
}

}  // namespace syscg::fs
