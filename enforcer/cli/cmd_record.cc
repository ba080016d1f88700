// syscg record [-o FILE] [--format=text|oci] [--group NAME] -- CMD [ARGS...]
//
// Runs CMD with every descendant under the recorder (enforcer/recorder.h)
// and, once the last of them has ended, prints what they called and the
// policy that denies everything else (README "Learn a program's calls").
// CMD's stdin, stdout and stderr are its own; the report goes to stdout, or
// to FILE with -o (opened before CMD runs, so a bad FILE costs no run).
//
// Text report:
//   # system calls of CMD (exit status S): N numbers, M calls; NAME NR COUNT
//   NAME NR COUNT               one line per native number, ascending ("-"
//   ...                         for a number syscg's table does not name)
//   # ...                       calls no policy can name, when there were any
//                               (numbers >= 512, x32, i386)
//   (blank line)
//   # deny everything else:
//   echo 'RANGES' > GROUP/syscalls.deny
//   # note: ...                 the notes (clone kept for clone3; io_uring
//                               when it was used; always the vDSO)
// RANGES is format_syscall_ranges of the numbers 0..511 not seen, minus
// restart_syscall (always allowed, cannot be denied) and minus clone when
// clone3 was seen: a group answers clone3 with ENOSYS (bpf/compiler.h) and
// glibc then falls back to clone, which the policy must therefore allow.
//
// Exit status: CMD's (128 + the signal that killed it); syscg's own failures
// (CMD cannot be run, tracing failed, FILE cannot be written) 1, with one
// line "syscg: ..."; usage 2.
#include "core/deny_errnos.h"
#include "core/grammar.h"
#include "core/syscall_set.h"
#include "core/syscall_table.h"
#include "core/formats/oci.h"
#include "enforcer/cli/commands.h"
#include "enforcer/recorder.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>

namespace syscg::cli {

namespace {

constexpr const char* kUsageLine = "syscg record [-o FILE] [--format=text|oci] [--group NAME] -- CMD [ARGS...]";

struct Options {
  std::string output;
  std::string format = "text";
  std::string group = "GROUP";
};

// A word as /bin/sh reads it back: unchanged when it is plain, else in
// single quotes.
std::string shell_word(const std::string& w) {
  const bool plain = !w.empty() && w.find_first_not_of(
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789_./-+=:,@%") == std::string::npos;
  if (plain) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_line(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += shell_word(w);
  }
  return out;
}

// The policy: what the command called, plus what every group needs anyway.
SyscallSet policy_allowed(const enforcer::Recording& rec) {
  SyscallSet allowed = rec.seen();
  (void)allowed.set(kRestartSyscall);
  if (allowed.test(SYS_clone3)) (void)allowed.set(SYS_clone);
  return allowed;
}

std::string text_report(const enforcer::Recording& rec, const std::vector<std::string>& command, const Options& o) {
  const SyscallSet seen = rec.seen();
  std::string out = fmt::format("# system calls of {} (exit status {}): {} numbers, {} calls; NAME NR COUNT\n",
                                shell_line(command), rec.exit_status(), seen.count(), rec.total());
  for (unsigned nr : seen) {
    const auto name = syscall_table::name(nr);
    out += fmt::format("{} {} {}\n", name ? *name : std::string_view("-"), nr, rec.counts[nr]);
  }
  if (!rec.beyond.empty()) {
    out += "# numbers >= 512, which no policy can name (the kernel, and a group, answer ENOSYS):";
    for (const auto& [nr, n] : rec.beyond) out += fmt::format(" {}x{}", nr, n);
    out += "\n";
  }
  if (rec.x32 + rec.i386 + rec.other != 0)
    out += fmt::format(
        "# not native x86_64, refused in every group whatever its policy: {} i386 (int 0x80), {} x32, {} other\n",
        rec.i386, rec.x32, rec.other);

  const SyscallSet allowed = policy_allowed(rec);
  const std::string ranges = grammar::format_syscall_ranges(~allowed);
  out += "\n# deny everything else:\n";
  if (ranges.empty()) {
    out += "# (nothing: every number was called)\n";
  } else {
    // At most 256 runs of at most 7 bytes and their commas: far below the
    // 4096 bytes of one control write; checked all the same.
    if (ranges.size() + 1 > grammar::kMaxWrite)
      throw CliError(kFailed, fmt::format("record: the deny list is {} bytes, beyond one write", ranges.size()));
    out += fmt::format("echo '{}' > {}/syscalls.deny\n", ranges, shell_word(o.group));
  }
  if (seen.test(SYS_clone3) && !seen.test(SYS_clone))
    out +=
        "# note: clone (56) is allowed although not called: a group answers clone3 with ENOSYS, and glibc then "
        "falls back to clone\n";
  if (seen.test(SYS_io_uring_setup) || seen.test(SYS_io_uring_enter))
    out +=
        "# note: io_uring was used: its operations are not system calls and are not counted; a group that denies a "
        "call an operation can make runs its members without io_uring (README \"io_uring and the vDSO\")\n";
  out +=
      "# note: clock_gettime, gettimeofday, time and getcpu normally run in the vDSO without entering the kernel: "
      "they are not counted, and a policy that denies them does not stop them there\n";
  return out;
}

// Writes all of `text` to `fd`.
void write_all(int fd, const std::string& text, const std::string& where) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw CliError(kFailed, fmt::format("record: cannot write the report to {}: {}", where, std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void run(const Common& common, const Options& o) {
  if (common.command.empty()) throw CliError(kUsage, fmt::format("record needs a command; usage: {}", kUsageLine));
  sys::UniqueFd file;
  if (!o.output.empty()) {
    file.reset(open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (!file) throw CliError(kFailed, fmt::format("record: cannot open {}: {}", o.output, std::strerror(errno)));
  }
  auto recorded = enforcer::record(common.command);
  if (!recorded) throw CliError(kFailed, fmt::format("record: {}", recorded.error().message));
  const enforcer::Recording& rec = recorded.value();
  std::string report;
  if (o.format == "oci") {
    report = formats::to_oci(policy_allowed(rec), DenyErrnos{});
    if (!report.ends_with('\n')) report += '\n';
  } else {
    report = text_report(rec, common.command, o);
  }
  write_all(file ? file.get() : STDOUT_FILENO, report, file ? o.output : "stdout");
  file.reset();
  // CMD's status is syscg's: nothing else is left to do, and stdout was
  // written directly (no stdio buffer to flush).
  std::exit(rec.exit_status());
}

}  // namespace

void add_record(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand(
      "record",
      "run CMD and its descendants, print the system calls they made and a policy denying every other one: "
      "syscg record [-o FILE] [--format=text|oci] [--group NAME] -- CMD [ARGS...]");
  auto o = std::make_shared<Options>();
  sub->add_option("-o,--output", o->output, "write the report to FILE instead of stdout");
  sub->add_option("--format", o->format, "text (default): the calls and an echo command; oci: an OCI seccomp profile")
      ->check(CLI::IsMember({"text", "oci"}))
      ->capture_default_str();
  sub->add_option("--group", o->group, "the group named in the suggested deny command")->capture_default_str();
  sub->callback([&common, o] { run(common, *o); });
}

}  // namespace syscg::cli
