// Test support: running shell commands and child processes, RAII.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace syscg::test {

struct RunResult {
  int status;          // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs `script` with /bin/sh in `cwd`, waits for it and captures its output
// (scripts that need bash features call `bash -c` themselves).
RunResult sh(const std::string& script, const std::string& cwd = ".");

// Tag: the child's stdin and stdout are pipes to the test (stderr is
// inherited); see Child::in_fd() / out_fd().
struct Piped {};

// A child process started from argv, killed (SIGKILL) and reaped on
// destruction unless waited for.
class Child {
 public:
  // stdout/stderr go to `log_path` when given, else are inherited.
  explicit Child(const std::vector<std::string>& argv, const std::string& log_path = "");
  // stdin and stdout are pipes (close-on-exec on the test's side).
  Child(const std::vector<std::string>& argv, Piped);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& o) noexcept;
  ~Child();

  pid_t pid() const { return pid_; }
  // Exit status if it ended (reaps it), or -1 if still running.
  int poll();
  // Waits up to `timeout`; returns the status or -1 on timeout.
  int wait_for(std::chrono::milliseconds timeout);
  void kill(int sig);

  // The test's ends of the pipes (Piped only; else -1).
  int in_fd() const { return in_fd_; }
  int out_fd() const { return out_fd_; }
  // Closes the child's stdin (it reads EOF).
  void close_in();

 private:
  void start(const std::vector<std::string>& argv, const std::string& log_path, bool piped);

  pid_t pid_ = -1;
  int status_ = -1;
  int in_fd_ = -1;   // write end of the child's stdin
  int out_fd_ = -1;  // read end of the child's stdout
};

}  // namespace syscg::test
