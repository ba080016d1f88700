#include "enforcer/sys/log.h"
#include "enforcer/sys/error.h"

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

Errc errc_of(int err) noexcept {
  switch (err) {
    case ESRCH:
    case ECHILD: return Errc::no_process;
    case EPERM:
    case EACCES: return Errc::permission;
    case EBUSY: return Errc::busy;
    case EAGAIN:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOSPC: return Errc::limit;
    case EINVAL: return Errc::invalid;
    default: return Errc::io;
  }
}

Error sys_error(Errc code, std::string_view what, int err) {
  const char* name = strerrorname_np(err);
  Error e = make_error(code, fmt::format("{}: {} ({})", what, std::strerror(err), name ? name : "?"));
  e.sys_errno = err;
  return e;
}

Error sys_error(std::string_view what, int err) { return sys_error(errc_of(err), what, err); }

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
