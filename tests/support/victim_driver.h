// Test support: the victim driver. Programs on pipes (their stdin and
// stdout), answering one line per command; tests/victims/victim on pipes.
#pragma once

#include "tests/support/mount.h"
#include "tests/support/proc.h"

#include <chrono>
#include <sys/stat.h>
#include <csignal>
#include <fcntl.h>
#include <cstdlib>
#include <cstdio>
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

// A `victim serve` forked by a `victim serve` member (its "spawn" command),
// driven over FIFOs.
class SpawnedVictim {
 public:
  // Asks `parent` to fork it; check ok() after.
  explicit SpawnedVictim(Victim& parent) {
    char dir[] = "/tmp/syscg-fifo-XXXXXX";
    if (!mkdtemp(dir)) return;
    const std::string in = std::string(dir) + "/in", out = std::string(dir) + "/out";
    if (mkfifo(in.c_str(), 0600) != 0 || mkfifo(out.c_str(), 0600) != 0) return;
    const std::string spawned = parent.ask("spawn " + in + " " + out);
    if (spawned.starts_with("spawned ")) pid_ = std::atoi(spawned.c_str() + 8);
    if (pid_ > 0) {
      to_ = ::open(in.c_str(), O_WRONLY | O_CLOEXEC);
      from_ = ::fopen(out.c_str(), "re");
    }
    ::unlink(in.c_str());
    ::unlink(out.c_str());
    ::rmdir(dir);
    if (ok()) ready_ = read_line() == "ready";
  }
  ~SpawnedVictim() {
    if (to_ >= 0) ::close(to_);
    if (from_) ::fclose(from_);
    if (pid_ > 0) ::kill(pid_, SIGKILL);  // the parent reaps it (or we, as subreaper)
  }
  bool ok() const { return pid_ > 0 && to_ >= 0 && from_; }
  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }
  std::string ask(const std::string& call) {
    const std::string line = call + "\n";
    if (::write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return "<send>";
    return read_line();
  }

 private:
  std::string read_line() {
    char buf[256] = {};
    if (!fgets(buf, sizeof buf, from_)) return "<eof>";
    std::string s = buf;
    if (s.ends_with('\n')) s.pop_back();
    return s;
  }
  pid_t pid_ = -1;
  int to_ = -1;
  FILE* from_ = nullptr;
  bool ready_ = false;
};

inline const std::vector<std::string> kAsNobody{"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                                "--clear-groups"};
}  // namespace syscg::test
