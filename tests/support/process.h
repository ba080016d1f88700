// Test support: running shell commands and child processes, RAII.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace syscg::test {

struct RunResult {
  int status;  // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs `bash -c script` in `cwd`, waits for it and captures its output.
RunResult sh(const std::string& script, const std::string& cwd = ".");

// A child process started from argv, killed (SIGKILL) and reaped on
// destruction unless waited for.
class Child {
 public:
  // stdout/stderr go to `log_path` when given, else are inherited.
  explicit Child(const std::vector<std::string>& argv, const std::string& log_path = "");
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

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace syscg::test
