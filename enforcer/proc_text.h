// Parsers for the text of /proc files, pure (no I/O) so that tests can feed
// them kernel output verbatim. procfs.h reads the files and uses these; no
// other code parses /proc text.
#pragma once

#include "core/ids.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace syscg::enforcer {

// include/linux/sched.h
inline constexpr unsigned long kPfExiting = 0x00000004;
inline constexpr unsigned long kPfKthread = 0x00200000;

// The fields of /proc/TID/stat syscg uses (proc(5) numbering).
struct ProcStat {
  char state = 0;                // field 3: R, S, D, Z, X, t, T, ...
  Pid ppid = 0;                  // field 4
  unsigned long flags = 0;       // field 9: PF_*
  std::uint64_t start_time = 0;  // field 22: clock ticks after boot

  bool kernel_thread() const { return (flags & kPfKthread) != 0; }
  // A zombie or dead task, or one inside do_exit (PTRACE_SEIZE then answers
  // EPERM).
  bool exiting() const { return state == 'Z' || state == 'X' || (flags & kPfExiting) != 0; }
};

// "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
// fields are counted from the last ')'. nullopt for malformed text.
std::optional<ProcStat> parse_stat(std::string_view text);

// The value after "Key:" in /proc/PID/status text, leading blanks removed,
// up to the end of its line; nullopt when the key is absent. `key` without
// the colon.
std::optional<std::string_view> status_field(std::string_view text, std::string_view key);

// A decimal (or, with base 16, hex) unsigned number at the start of `text`,
// after blanks; nullopt when there is none. `rest` gets what follows.
std::optional<std::uint64_t> parse_number(std::string_view text, int base = 10, std::string_view* rest = nullptr);

// The address range "lo-hi" at the start of a /proc/PID/maps line.
struct Range {
  std::uint64_t lo = 0, hi = 0;
};
std::optional<Range> parse_maps_range(std::string_view line);

}  // namespace syscg::enforcer
