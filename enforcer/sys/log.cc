#include "enforcer/sys/log.h"

#include <cstdio>
#include <cstring>
#include <syslog.h>

namespace syscg::sys {
namespace {

std::string_view level_word(Level level) {
  switch (level) {
    case Level::error: return "error: ";
    case Level::warning: return "warning: ";
    case Level::notice: return "";
  }
  return "";
}

}  // namespace

void StderrLog::write(Level level, std::string_view line) {
  // One fmt::print per line: concurrent lines do not interleave.
  fmt::print(stderr, "{}: {}{}\n", program_, level_word(level), line);
}

SyslogLog::SyslogLog(const char* ident) { openlog(ident, LOG_PID, LOG_DAEMON); }
SyslogLog::~SyslogLog() { closelog(); }

void SyslogLog::write(Level level, std::string_view line) {
  const int priority = level == Level::error ? LOG_ERR : level == Level::warning ? LOG_WARNING : LOG_NOTICE;
  syslog(priority, "%s%.*s", level_word(level).data(), static_cast<int>(line.size()), line.data());
}

void SwitchableLog::write(Level level, std::string_view line) {
  std::lock_guard lock(mu_);
  sink_->write(level, line);
}

void MemoryLog::write(Level level, std::string_view line) {
  std::lock_guard lock(mu_);
  lines_.push_back(fmt::format("{}{}", level_word(level), line));
}

std::vector<std::string> MemoryLog::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

}  // namespace syscg::sys
