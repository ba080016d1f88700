// Owned kernel handles, released on destruction: a file descriptor
// (including pidfds, epoll and eventfd descriptors, sockets) and a /proc
// directory stream. The one RAII family of the project.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <utility>

namespace syscg::sys {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // close(2)'s result is not an error here: the descriptor is gone either
  // way (Linux never retries a close). Code that must know whether a write
  // reached the disk calls fsync before.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class UniqueDir {
 public:
  UniqueDir() = default;
  explicit UniqueDir(DIR* d) : d_(d) {}
  UniqueDir(UniqueDir&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  UniqueDir& operator=(UniqueDir&& o) noexcept {
    if (this != &o) {
      if (d_) ::closedir(d_);
      d_ = std::exchange(o.d_, nullptr);
    }
    return *this;
  }
  UniqueDir(const UniqueDir&) = delete;
  UniqueDir& operator=(const UniqueDir&) = delete;
  ~UniqueDir() {
    if (d_) ::closedir(d_);
  }
  DIR* get() const { return d_; }
  explicit operator bool() const { return d_ != nullptr; }

 private:
  DIR* d_ = nullptr;
};

}  // namespace syscg::sys
