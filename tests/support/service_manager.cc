#include "tests/support/service_manager.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace syscg::test {
namespace {

using Clock = std::chrono::steady_clock;

// systemd reads a notification into a buffer of this size (NOTIFY_BUFFER_MAX).
constexpr std::size_t kMaxMessage = 4096;
// The kernel's cap on fds in one message (SCM_MAX_FD).
constexpr std::size_t kMaxFds = 253;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("ServiceManager: " + what + ": " + std::strerror(errno));
}

int decode(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }

std::vector<std::pair<std::string, std::string>> parse(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (const auto eq = line.find('='); eq != std::string_view::npos)
      out.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return out;
}

// Writes "LISTEN_PID=<pid>" into `buf` (large enough) in the child, where
// only async-signal-safe work is allowed (no allocation, no stdio).
void format_listen_pid(char* buf, pid_t pid) {
  static constexpr char kPrefix[] = "LISTEN_PID=";
  char* p = buf;
  for (const char* s = kPrefix; *s;) *p++ = *s++;
  char digits[16];
  int n = 0;
  for (auto v = static_cast<unsigned long>(pid); n == 0 || v > 0; v /= 10)
    digits[n++] = static_cast<char>('0' + v % 10);
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
}

}  // namespace

std::optional<std::string> NotifyMessage::get(std::string_view key) const {
  std::optional<std::string> value;
  for (const auto& [k, v] : assignments)
    if (k == key) value = v;
  return value;
}

bool NotifyMessage::has(std::string_view key, std::string_view value) const {
  return std::any_of(assignments.begin(), assignments.end(),
                     [&](const auto& kv) { return kv.first == key && kv.second == value; });
}

ServiceManager::ServiceManager(std::size_t store_max) : store_max_(store_max) {
  std::string templ = "/tmp/syscg-notify-XXXXXX";
  if (!mkdtemp(templ.data())) fail("mkdtemp");
  dir_ = templ;
  socket_path_ = dir_ + "/notify";
  socket_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (socket_ < 0) {
    rmdir(dir_.c_str());
    fail("socket");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof addr.sun_path - 1);
  const int on = 1;
  // SO_PASSCRED: every message carries its sender (systemd's NotifyAccess=
  // checks need it, and tests may too).
  if (bind(socket_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      setsockopt(socket_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    const int e = errno;
    close(socket_);
    unlink(socket_path_.c_str());
    rmdir(dir_.c_str());
    errno = e;
    fail("bind/SO_PASSCRED " + socket_path_);
  }
}

ServiceManager::~ServiceManager() {
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    int raw;
    while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
  }
  for (const auto& s : store_) close(s.fd);
  close(socket_);
  unlink(socket_path_.c_str());
  rmdir(dir_.c_str());
}

pid_t ServiceManager::start(const std::vector<std::string>& argv) { return start(argv, StartOptions{}); }

pid_t ServiceManager::start(const std::vector<std::string>& argv, const StartOptions& options) {
  if (pid_ > 0 && poll_exit() < 0) throw std::runtime_error("ServiceManager: a command still runs");
  if (argv.empty()) throw std::runtime_error("ServiceManager: empty command");
  // Everything the child needs is built here: between fork and exec it may
  // only make async-signal-safe calls (the runner has threads).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("NOTIFY_SOCKET=") || v.starts_with("LISTEN_")) continue;
    env_strings.emplace_back(v);
  }
  env_strings.push_back("NOTIFY_SOCKET=" + socket_path_);
  const std::size_t n = options.pass_store ? store_.size() : 0;
  // The store's fds, first copied above 3 + n so that no dup2 below
  // overwrites one not yet moved.
  std::vector<int> moved;
  auto close_moved = [&] {
    for (int fd : moved) close(fd);
  };
  if (n > 0) {
    std::string names;
    for (const auto& s : store_) {
      const int fd = fcntl(s.fd, F_DUPFD_CLOEXEC, static_cast<int>(3 + n));
      if (fd < 0) {
        close_moved();
        fail("F_DUPFD_CLOEXEC");
      }
      moved.push_back(fd);
      names += (names.empty() ? "" : ":") + s.name;
    }
    env_strings.push_back("LISTEN_FDS=" + std::to_string(n));
    env_strings.push_back("LISTEN_FDNAMES=" + names);
  }
  for (const auto& e : options.env) {  // an extra entry replaces one of the same name
    const std::string key = e.substr(0, e.find('=') + 1);
    std::erase_if(env_strings, [&](const std::string& have) { return have.starts_with(key); });
    env_strings.push_back(e);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  std::array<char, 64> listen_pid{};
  if (n > 0) envp.push_back(listen_pid.data());  // filled in by the child
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = argv;
  std::vector<char*> args;
  for (auto& a : argv_strings) args.push_back(a.data());
  args.push_back(nullptr);

  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    close_moved();
    fail("/dev/null");
  }
  int log_fd = -1;
  if (!options.log_path.empty()) {
    log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      close(null_fd);
      close_moved();
      fail(options.log_path);
    }
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(null_fd);
    if (log_fd >= 0) close(log_fd);
    close_moved();
    fail("fork");
  }
  if (pid == 0) {
    // dup2 clears close-on-exec on the copy.
    if (dup2(null_fd, STDIN_FILENO) < 0) _exit(127);
    if (log_fd >= 0 && (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)) _exit(127);
    for (std::size_t i = 0; i < n; ++i)
      if (dup2(moved[i], static_cast<int>(3 + i)) < 0) _exit(127);
    // Only what systemd would pass: nothing of the runner's leaks in.
    if (close_range(static_cast<unsigned>(3 + n), ~0U, 0) != 0) _exit(127);
    if (n > 0) format_listen_pid(listen_pid.data(), getpid());
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(null_fd);
  if (log_fd >= 0) close(log_fd);
  close_moved();
  pid_ = pid;
  status_ = -1;
  return pid;
}

int ServiceManager::poll_exit() {
  if (pid_ <= 0 || status_ >= 0) return status_;
  int raw;
  if (waitpid(pid_, &raw, WNOHANG) == pid_) status_ = decode(raw);
  return status_;
}

int ServiceManager::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // Keep the socket drained meanwhile: a full queue would block a sender.
  while (poll_exit() < 0 && Clock::now() < deadline) receive(std::chrono::milliseconds(5));
  // What it sent before it exited is queued in our socket already (a Unix
  // datagram is in the receiver's queue when sendmsg returns): take it now,
  // or the store would be read without its last message (a flaky test's
  // cause).
  if (status_ >= 0) receive();
  return status_;
}

int ServiceManager::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || poll_exit() >= 0) return status_;
  ::kill(pid_, SIGTERM);
  if (wait_exit(timeout) < 0) {
    ::kill(pid_, SIGKILL);
    int raw;
    while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
    status_ = decode(raw);
  }
  receive();
  return status_;
}

void ServiceManager::receive(std::chrono::milliseconds timeout) {
  pollfd p{socket_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
  for (;;) {
    std::array<char, kMaxMessage + 1> buf{};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t len = recvmsg(socket_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (len < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail("recvmsg");
    }
    NotifyMessage m;
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        m.sender = cred.pid;
      } else if (c->cmsg_type == SCM_RIGHTS) {
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          fds.push_back(fd);
        }
      }
    }
    m.truncated = static_cast<std::size_t>(len) > kMaxMessage || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    m.text.assign(buf.data(), std::min(static_cast<std::size_t>(len), kMaxMessage));
    m.assignments = parse(m.text);
    m.fds = fds.size();
    handle(std::move(m), std::move(fds));
  }
}

void ServiceManager::handle(NotifyMessage message, std::vector<int> fds) {
  const std::string name = message.get("FDNAME").value_or("stored");
  if (message.has("FDSTORE", "1")) {
    for (int fd : fds) {
      if (store_.size() < store_max_)
        store_.push_back({name, fd});
      else
        close(fd);
    }
  } else {
    for (int fd : fds) close(fd);
  }
  if (message.has("FDSTOREREMOVE", "1") && message.get("FDNAME")) {
    std::erase_if(store_, [&](const StoredFd& s) {
      if (s.name != name) return false;
      close(s.fd);
      return true;
    });
  }
  messages_.push_back(std::move(message));
}

std::optional<NotifyMessage> ServiceManager::wait_for(const std::function<bool(const NotifyMessage&)>& pred,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // Whether it had ended before this receive: then the receive got all.
    const bool ended = pid_ > 0 && poll_exit() >= 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    receive(ended ? std::chrono::milliseconds(0)
                  : std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(20)));
    for (; checked_ < messages_.size(); ++checked_)
      if (pred(messages_[checked_])) return messages_[checked_++];
    if (ended || Clock::now() >= deadline) return std::nullopt;
  }
}

std::optional<NotifyMessage> ServiceManager::wait_ready(std::chrono::milliseconds timeout) {
  return wait_for([](const NotifyMessage& m) { return m.has("READY", "1"); }, timeout);
}

const std::vector<NotifyMessage>& ServiceManager::messages() {
  receive();
  return messages_;
}

std::vector<std::string> ServiceManager::store_names() const {
  std::vector<std::string> names;
  for (const auto& s : store_) names.push_back(s.name);
  return names;
}

}  // namespace syscg::test
