// The one log sink. Components receive a Log& from the composition root
// (fs/main.cc) and never print themselves: in the foreground lines go to
// stderr, once daemonized (stderr is /dev/null) to syslog.
//
// A line is one event, without a trailing newline; the sink adds the
// program name where its medium needs one. Safe to call from any thread.
#pragma once

#include "core/error.h"

#include <fmt/format.h>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace syscg::sys {

enum class Level { error, warning, notice };

class Log {
 public:
  virtual ~Log() = default;
  virtual void write(Level level, std::string_view line) = 0;

  template <class... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::error, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void warning(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void notice(fmt::format_string<Args...> f, Args&&... args) {
    write(Level::notice, fmt::format(f, std::forward<Args>(args)...));
  }
};

// "PROGRAM: error: LINE" on stderr (notices without a level word).
class StderrLog final : public Log {
 public:
  explicit StderrLog(std::string program) : program_(std::move(program)) {}
  void write(Level level, std::string_view line) override;

 private:
  std::string program_;
};

// syslog(3) with LOG_ERR / LOG_WARNING / LOG_NOTICE; openlog with `ident`.
class SyslogLog final : public Log {
 public:
  explicit SyslogLog(const char* ident);
  ~SyslogLog() override;
  SyslogLog(const SyslogLog&) = delete;
  SyslogLog& operator=(const SyslogLog&) = delete;
  void write(Level level, std::string_view line) override;
};

// Forwards to a sink chosen later: the daemon starts on stderr and switches
// to syslog when it daemonizes (before any thread is started).
class SwitchableLog final : public Log {
 public:
  explicit SwitchableLog(Log& initial) : sink_(&initial) {}
  void set(Log& sink) {
    std::lock_guard lock(mu_);
    sink_ = &sink;
  }
  void write(Level level, std::string_view line) override;

 private:
  std::mutex mu_;
  Log* sink_;
};

// Keeps the lines (tests).
class MemoryLog final : public Log {
 public:
  void write(Level level, std::string_view line) override;
  std::vector<std::string> lines() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace syscg::sys
