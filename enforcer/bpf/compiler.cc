#include "enforcer/bpf/compiler.h"

#include "enforcer/bpf/assembler.h"

#include <linux/audit.h>

#include <cerrno>
#include <span>
#include <vector>

namespace syscg::bpf {
namespace {

static_assert(kSeccompNr < kSyscallWidth && kPrctlNr < kSyscallWidth);

constexpr std::uint32_t kX32Bit = 0x40000000;
constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kDeny = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kNoSys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;

// The exempt numbers are verdicts of their own, so they always form
// single-number runs and their argument checks sit on their paths alone.
// An exempt number that is routed to the supervisor is a verdict of its own
// too: its exact-args check ends in USER_NOTIF instead of ERRNO.
enum class Verdict : std::uint8_t {
  allow,
  deny,
  notify,
  seccomp_exempt,
  prctl_exempt,
  seccomp_exempt_notify,
  prctl_exempt_notify,
  seccomp_guarded,         // allowed, in a supervised filter: no listener of one's own
  seccomp_exempt_guarded,  // denied, not routed, in a supervised filter
};

struct Run {
  unsigned first;  // the run covers [first, next run's first)
  Verdict verdict;
};

Verdict verdict(const SyscallSet& allowed, const SyscallSet& notify, unsigned nr) {
  if (nr == kSeccompNr && !notify.empty()) {  // a supervised filter guards 317 in every case
    if (allowed.test(nr)) return Verdict::seccomp_guarded;
    return notify.test(nr) ? Verdict::seccomp_exempt_notify : Verdict::seccomp_exempt_guarded;
  }
  if (allowed.test(nr)) return Verdict::allow;
  const bool routed = notify.test(nr);
  if (nr == kSeccompNr) return routed ? Verdict::seccomp_exempt_notify : Verdict::seccomp_exempt;
  if (nr == kPrctlNr) return routed ? Verdict::prctl_exempt_notify : Verdict::prctl_exempt;
  return routed ? Verdict::notify : Verdict::deny;
}

std::vector<Run> runs_of(const SyscallSet& allowed, const SyscallSet& notify) {
  std::vector<Run> runs;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    const Verdict v = verdict(allowed, notify, nr);
    if (runs.empty() || runs.back().verdict != v) runs.push_back({nr, v});
  }
  return runs;
}

// Allows the call iff each (offset, value) word matches, else returns
// `otherwise`. A 64-bit argument is checked as two words, so high bits cannot
// smuggle a different value past a low-half comparison.
void emit_exact_args(Assembler& a, std::span<const std::pair<std::uint32_t, std::uint32_t>> words,
                     std::uint32_t otherwise) {
  const std::string allow = a.fresh("allow");
  const std::string deny = a.fresh("deny");
  for (std::size_t i = 0; i < words.size(); ++i) {
    const bool last = i + 1 == words.size();
    const std::string next = last ? allow : a.fresh("word");
    a.ld_abs(words[i].first);
    a.jeq(words[i].second, next, deny);
    if (!last) a.label(next);
  }
  a.label(allow);
  a.ret(kAllow);
  a.label(deny);
  a.ret(otherwise);
}

void emit_leaf(Assembler& a, Verdict v) {
  switch (v) {
    case Verdict::allow:
      a.ret(kAllow);
      return;
    case Verdict::deny:
      a.ret(kDeny);
      return;
    case Verdict::notify:
      a.ret(kNotify);
      return;
    case Verdict::seccomp_exempt: {
      const std::pair<std::uint32_t, std::uint32_t> words[] = {{arg_low(0), kSeccompSetModeFilter},
                                                               {arg_high(0), 0}};
      emit_exact_args(a, words, kDeny);
      return;
    }
    case Verdict::seccomp_exempt_notify:
    case Verdict::seccomp_guarded:
    case Verdict::seccomp_exempt_guarded: {
      // SET_MODE_FILTER without NEW_LISTENER is allowed, with it denied; any
      // other use as the number's verdict says.
      const std::string set_mode = a.fresh("set_mode"), other = a.fresh("other"), flags = a.fresh("flags");
      const std::string listener = a.fresh("listener"), plain = a.fresh("plain");
      a.ld_abs(arg_low(0));
      a.jeq(kSeccompSetModeFilter, set_mode, other);
      a.label(set_mode);
      a.ld_abs(arg_high(0));
      a.jeq(0, flags, other);
      a.label(flags);
      a.ld_abs(arg_low(1));  // flags is an unsigned int: the kernel reads the low half only
      a.jset(kSeccompFlagNewListener, listener, plain);
      a.label(listener);
      a.ret(kDeny);
      a.label(plain);
      a.ret(kAllow);
      a.label(other);
      a.ret(v == Verdict::seccomp_guarded ? kAllow : v == Verdict::seccomp_exempt_guarded ? kDeny : kNotify);
      return;
    }
    case Verdict::prctl_exempt:
    case Verdict::prctl_exempt_notify: {
      const std::pair<std::uint32_t, std::uint32_t> words[] = {
          {arg_low(0), kPrSetNoNewPrivs}, {arg_high(0), 0}, {arg_low(1), 1}, {arg_high(1), 0}};
      emit_exact_args(a, words, v == Verdict::prctl_exempt ? kDeny : kNotify);
      return;
    }
  }
}

// A holds nr, known to lie in [runs.front().first, end of runs.back()).
// Preorder layout (node, lower half, upper half) keeps every jump forward;
// the lower half falls through.
void emit_search(Assembler& a, std::span<const Run> runs) {
  if (runs.size() == 1) {
    emit_leaf(a, runs.front().verdict);
    return;
  }
  const std::size_t mid = runs.size() / 2;
  const std::string lower = a.fresh("lt");
  const std::string upper = a.fresh("ge");
  a.jge(runs[mid].first, upper, lower);
  a.label(lower);
  emit_search(a, runs.first(mid));
  a.label(upper);
  emit_search(a, runs.subspan(mid));
}

}  // namespace

bool needs_filter(const SyscallSet& allowed) { return !allowed.full(); }

Result<Program> compile(const SyscallSet& allowed, const SyscallSet& notify) {
  Assembler a;
  a.ld_abs(kOffsetArch);
  a.jeq(AUDIT_ARCH_X86_64, "native", "foreign");
  a.label("foreign");
  a.ret(kDeny);

  a.label("native");
  a.ld_abs(kOffsetNr);
  a.jset(kX32Bit, "x32", "not_x32");
  a.label("x32");
  a.ret(kDeny);

  a.label("not_x32");
  a.jge(kSyscallWidth, "unknown", "table");
  a.label("unknown");
  a.ret(kNoSys);

  a.label("table");
  const auto runs = runs_of(allowed, notify);
  emit_search(a, runs);
  return a.finish();
}

}  // namespace syscg::bpf
