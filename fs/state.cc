#include "fs/state.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

Error io_error(const std::string& what) { return make_error(Errc::invalid, fmt::format("{}: {}", what, std::strerror(errno))); }

}  // namespace

Status save(const std::string& path, const State& state) {
  const std::string text = encode(state);
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const auto e = io_error(tmp);
      close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0) {
    const auto e = io_error(tmp);
    close(fd);
    return e;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) return io_error(path);
  // The rename itself must reach the disk before the change is acknowledged.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error(dir);
  const int rc = fsync(dfd);
  close(dfd);
  if (rc != 0) return io_error(dir);
  return outcome::success();
}

Result<std::optional<State>> load(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<State>{};
    return io_error(path);
  }
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(fd);
  BOOST_OUTCOME_TRY(state, decode(text));
  return std::optional<State>(std::move(state));
}

}  // namespace syscg::fs
