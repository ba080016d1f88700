// Test support: the victim driver. Programs on pipes (their stdin and
// stdout), answering one line per command; tests/victims/victim on pipes.
#pragma once

#include "tests/support/mount.h"
#include "tests/support/proc.h"

#include <chrono>
#include <poll.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace syscg::test {

// A program with pipes to its stdin and from its stdout, answering lines.
class PipedProgram {
 public:
  explicit PipedProgram(const std::vector<std::string>& argv) : child_(argv, Piped{}) {}

  pid_t pid() const { return child_.pid(); }
  Child& child() { return child_; }

  bool send(const std::string& line) {
    const std::string s = line + "\n";
    return write(child_.in_fd(), s.data(), s.size()) == static_cast<ssize_t>(s.size());
  }
  // The next line without its newline, or "<eof>" / "<no line within N ms>".
  std::string read_line(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return "<no line within " + std::to_string(timeout.count()) + " ms>";
      pollfd p{child_.out_fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[512];
      const ssize_t n = read(child_.out_fd(), chunk, sizeof chunk);
      if (n == 0) return "<eof>";
      if (n > 0) buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  // `serve` mode: makes the call and returns the victim's answer line.
  std::string ask(const std::string& call) {
    if (!send(call)) return "<send failed>";
    return read_line();
  }
  void close_stdin() { child_.close_in(); }

 private:
  Child child_;
  std::string buf_;
};

// tests/victims/victim with pipes to its stdin and from its stdout.
class Victim : public PipedProgram {
 public:
  // `prefix` runs before the victim and must exec it (e.g. setpriv ...).
  explicit Victim(const std::vector<std::string>& args, const std::vector<std::string>& prefix = {})
      : PipedProgram(argv(args, prefix)) {}

 private:
  static std::vector<std::string> argv(const std::vector<std::string>& args, const std::vector<std::string>& prefix) {
    std::vector<std::string> v = prefix;
    v.push_back(victim_binary());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  }
};

inline const std::vector<std::string> kAsNobody{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                                "--clear-groups"};
}  // namespace syscg::test
