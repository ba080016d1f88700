#include "tests/support/process.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace syscg::test {
namespace {

int decode(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }

}  // namespace

RunResult sh(const std::string& script, const std::string& cwd) {
  const std::string cmd = "cd '" + cwd + "' && { " + script + "\n} 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  return {decode(pclose(p)), out};
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path) { start(argv, log_path, false); }

Child::Child(const std::vector<std::string>& argv, Piped) { start(argv, "", true); }

void Child::start(const std::vector<std::string>& argv, const std::string& log_path, bool piped) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  if (piped && (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)) throw std::runtime_error("pipe2 failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (piped) {
      dup2(in[0], STDIN_FILENO);  // dup2 clears close-on-exec on the copy
      dup2(out[1], STDOUT_FILENO);
    } else if (!log_path.empty()) {
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
    }
    execv(args[0], args.data());
    _exit(127);
  }
  if (piped) {
    close(in[0]);
    close(out[1]);
    in_fd_ = in[1];
    out_fd_ = out[0];
  }
}

Child::Child(Child&& o) noexcept : pid_(o.pid_), status_(o.status_), in_fd_(o.in_fd_), out_fd_(o.out_fd_) {
  o.pid_ = -1;
  o.in_fd_ = o.out_fd_ = -1;
}

Child::~Child() {
  close_in();
  if (out_fd_ >= 0) close(out_fd_);
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    int raw;
    while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
  }
}

void Child::close_in() {
  if (in_fd_ >= 0) close(in_fd_);
  in_fd_ = -1;
}

int Child::poll() {
  if (status_ >= 0 || pid_ <= 0) return status_;
  int raw;
  if (waitpid(pid_, &raw, WNOHANG) == pid_) status_ = decode(raw);
  return status_;
}

int Child::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (poll() < 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return status_;
}

void Child::kill(int sig) {
  if (pid_ > 0 && status_ < 0) ::kill(pid_, sig);
}

}  // namespace syscg::test
