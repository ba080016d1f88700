#include "fs/state.h"

#include "enforcer/sys/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

constexpr std::string_view kV1Header = "syscg-state 1\n";

// Every failure here is the system's: io, with the call and its errno.
Error io_error(const std::string& what) { return sys::sys_error(Errc::io, what); }

// The whole file; nullopt when it does not exist.
Result<std::optional<std::string>> read_file(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<std::string>{};
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
  return std::optional<std::string>(std::move(text));
}

// Whether `path` starts like a version-1 file; false when it does not exist.
Result<bool> is_v1(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    return io_error("open " + path);
  }
  char head[kV1Header.size()];
  ssize_t n;
  do n = ::pread(fd.get(), head, sizeof head, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return io_error("read " + path);
  return std::string_view(head, static_cast<std::size_t>(n)) == kV1Header;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status rename_if_there(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) return io_error("rename " + from + " to " + to);
  return outcome::success();
}

// Keeps a corrupt database (with its WAL) or v1 file aside.
Status set_aside(const std::string& file) {
  BOOST_OUTCOME_TRY(rename_if_there(file + "-wal", file + ".corrupt-wal"));
  if (::unlink((file + "-shm").c_str()) != 0 && errno != ENOENT) return io_error("unlink " + file + "-shm");
  if (::rename(file.c_str(), (file + ".corrupt").c_str()) != 0) return io_error("rename " + file + " aside");
  return outcome::success();
}

Status sync_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return io_error("open " + dir);
  if (::fsync(fd.get()) != 0) return io_error("fsync " + dir);
  return outcome::success();
}

Error in_file(const std::string& file, Error e) {
  if (e.message.find(file) == std::string::npos) e.message = fmt::format("{}: {}", file, e.message);
  return e;
}

// Converts or creates (state.h); returns the file a corruption was found in
// through `bad`.
Status prepare(const std::string& path, std::string& bad) {
  bad = path;
  BOOST_OUTCOME_TRY(v1_in_place, is_v1(path));
  if (v1_in_place) {
    BOOST_OUTCOME_TRY(state, load_v1(path));
    BOOST_OUTCOME_TRY(Store::create(path + ".conv", *state));
    // The old file is kept (a second name), then the database replaces it
    // in one rename: a crash leaves either the v1 file or the database.
    const std::string kept = path + ".v1";
    if (::unlink(kept.c_str()) != 0 && errno != ENOENT) return io_error("unlink " + kept);
    if (::link(path.c_str(), kept.c_str()) != 0) return io_error("link " + path + " to " + kept);
    if (::rename((path + ".conv").c_str(), path.c_str()) != 0) return io_error("rename " + path + ".conv");
    return sync_dir(path);
  }
  if (exists(path)) return outcome::success();
  if (path.size() > 3 && path.ends_with(".db")) {
    const std::string v1 = path.substr(0, path.size() - 3);
    BOOST_OUTCOME_TRY(old, is_v1(v1));
    if (old) {
      bad = v1;
      BOOST_OUTCOME_TRY(state, load_v1(v1));
      bad = path;
      return Store::create(path, *state);
    }
  }
  return Store::create(path, State{});
}

}  // namespace

Result<StateLock> StateLock::acquire(const std::string& db_path) {
  const std::string path = db_path + ".lock";
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return io_error("open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return io_error("flock " + path);
    char buf[32] = {};
    const ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return make_error(Errc::busy, fmt::format("{} is in use by syscgfs pid {} (it holds {})", db_path,
                                              holder.empty() ? "unknown" : holder, path));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd.get(), 0) != 0) return io_error("truncate " + path);
  if (::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return io_error("write " + path);
  return StateLock(std::move(fd));
}

Result<StateLock> StateLock::inherit(const std::string& db_path, sys::UniqueFd fd) {
  const std::string path = db_path + ".lock";
  struct stat ours {
  }, named{};
  if (::fstat(fd.get(), &ours) != 0) return io_error("fstat of the handed lock");
  if (::stat(path.c_str(), &named) != 0) return io_error("stat " + path);
  if (ours.st_dev != named.st_dev || ours.st_ino != named.st_ino)
    return make_error(Errc::invalid, fmt::format("the handed state lock is not {}", path));
  // The same open file description holds the flock: taking it again
  // succeeds at once, and proves the giver held it.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return io_error("flock " + path);
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd.get(), 0) != 0) return io_error("truncate " + path);
  if (::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return io_error("write " + path);
  return StateLock(std::move(fd));
}

Result<std::optional<State>> load_v1(const std::string& path) {
  BOOST_OUTCOME_TRY(text, read_file(path));
  if (!text) return std::optional<State>{};
  auto state = decode(*text);
  if (!state) return in_file(path, state.error());
  return std::optional<State>(std::move(state).value());
}

Result<std::unique_ptr<Store>> open_state(const std::string& path, bool fresh, sys::Log& log, const char* vfs) {
  std::string bad;
  auto opened = [&]() -> Result<std::unique_ptr<Store>> {
    BOOST_OUTCOME_TRY(prepare(path, bad));
    bad = path;
    return Store::open(path, vfs);
  }();
  if (opened) return opened;
  auto e = in_file(bad, opened.error());
  // An unreadable file is not a corrupt one: never set it aside.
  if (!fresh || e.code != Errc::invalid) return e;
  BOOST_OUTCOME_TRY(set_aside(bad));
  log.warning("{} was corrupt ({}); kept as {}.corrupt, starting empty", bad, e.message, bad);
  if (bad == path) {
    BOOST_OUTCOME_TRY(Store::create(path, State{}));
  } else {
    BOOST_OUTCOME_TRY(prepare(path, bad));  // the v1 file is gone: an empty database
  }
  return Store::open(path, vfs);
}

}  // namespace syscg::fs
