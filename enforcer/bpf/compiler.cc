#include "enforcer/bpf/compiler.h"

#include "enforcer/bpf/assembler.h"

#include <linux/audit.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <vector>

namespace syscg::bpf {
namespace {

static_assert(kSeccompNr < kSyscallWidth && kPrctlNr < kSyscallWidth);
static_assert(kCloneNr < kSyscallWidth && kClone3Nr < kSyscallWidth);

constexpr std::uint32_t kX32Bit = 0x40000000;
constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kDeny = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kNoSys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr std::uint32_t kNotify = SECCOMP_RET_USER_NOTIF;

// The numbers with argument checks are verdicts of their own, so they always
// form single-number runs and their argument checks sit on their paths alone.
// A checked number that is routed to the supervisor is a verdict of its own
// too: its checks end in USER_NOTIF instead of ERRNO.
enum class Verdict : std::uint8_t {
  allow,
  deny,
  notify,
  nosys,                 // clone3, whatever the sets say
  clone_guarded,         // clone allowed: CLONE_PARENT denied
  clone_guarded_notify,  // clone routed: CLONE_PARENT denied, the rest asks
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
  std::uint32_t deny;  // what the run's denials return: ERRNO(the number's errno)
};

Verdict clone_verdict(const SyscallSet& allowed, const SyscallSet& notify) {
  if (allowed.test(kCloneNr)) return Verdict::clone_guarded;
  return notify.test(kCloneNr) ? Verdict::clone_guarded_notify : Verdict::deny;
}

Verdict seccomp_verdict(const SyscallSet& allowed, const SyscallSet& notify) {
  const bool routed = notify.test(kSeccompNr);
  if (!notify.empty()) {  // a supervised filter guards 317 in every case
    if (allowed.test(kSeccompNr)) return Verdict::seccomp_guarded;
    return routed ? Verdict::seccomp_exempt_notify : Verdict::seccomp_exempt_guarded;
  }
  if (allowed.test(kSeccompNr)) return Verdict::allow;
  return routed ? Verdict::seccomp_exempt_notify : Verdict::seccomp_exempt;
}

Verdict verdict(const SyscallSet& allowed, const SyscallSet& notify, unsigned nr) {
  if (nr == kClone3Nr) return Verdict::nosys;
  if (nr == kCloneNr) return clone_verdict(allowed, notify);
  if (nr == kSeccompNr) return seccomp_verdict(allowed, notify);
  if (allowed.test(nr)) return Verdict::allow;
  const bool routed = notify.test(nr);
  if (nr == kPrctlNr) return routed ? Verdict::prctl_exempt_notify : Verdict::prctl_exempt;
  return routed ? Verdict::notify : Verdict::deny;
}

// ERRNO(err), clamped as the kernel clamps it (seccomp_run_filters: data
// above MAX_ERRNO becomes MAX_ERRNO), so the program says what runs.
std::uint32_t errno_action(int err) { return SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(std::min(err, kMaxErrno)); }

std::vector<Run> runs_of(const SyscallSet& allowed, const SyscallSet& notify, const DenyErrnos& errnos) {
  std::vector<Run> runs;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    const Verdict v = verdict(allowed, notify, nr);
    // Only denials carry an errno: other verdicts keep EPERM so that runs
    // of allowed or routed numbers are not split by stale entries.
    const std::uint32_t deny = errno_action(allowed.test(nr) || notify.test(nr) ? EPERM : errnos.of(nr));
    if (runs.empty() || runs.back().verdict != v || runs.back().deny != deny) runs.push_back({nr, v, deny});
  }
  return runs;
}

// Returns `matched` iff each (offset, value) word matches, else `otherwise`.
// The caller lists exactly the words the kernel reads of each argument (see
// ARGUMENT WIDTHS in the header): both halves of a 64-bit one, so high bits
// cannot smuggle a different value past a low-half comparison; the low half
// alone of a 32-bit one, whose high half the kernel drops.
void emit_exact_args(Assembler& a, std::span<const std::pair<std::uint32_t, std::uint32_t>> words,
                     std::uint32_t matched, std::uint32_t otherwise) {
  const std::string match = a.fresh("match");
  const std::string differ = a.fresh("differ");
  for (std::size_t i = 0; i < words.size(); ++i) {
    const bool last = i + 1 == words.size();
    const std::string next = last ? match : a.fresh("word");
    a.ld_abs(words[i].first);
    a.jeq(words[i].second, next, differ);
    if (!last) a.label(next);
  }
  a.label(match);
  a.ret(matched);
  a.label(differ);
  a.ret(otherwise);
}

// Returns `if_set` iff the word at `offset` has any bit of `bits`, else
// `otherwise`.
void emit_bit_test(Assembler& a, std::uint32_t offset, std::uint32_t bits, std::uint32_t if_set,
                   std::uint32_t otherwise) {
  const std::string set = a.fresh("set"), clear = a.fresh("clear");
  a.ld_abs(offset);
  a.jset(bits, set, clear);
  a.label(set);
  a.ret(if_set);
  a.label(clear);
  a.ret(otherwise);
}

// clone(2) takes `unsigned long clone_flags` but kernel/fork.c uses only
// lower_32_bits(clone_flags) (since 5.7 and in the stable kernels; older
// ones read all 64 bits, where CLONE_PARENT is still bit 15 of the low
// word), so one jset on the low word tests the very bit the kernel tests.
void emit_clone_guard(Assembler& a, std::uint32_t otherwise) {
  emit_bit_test(a, arg_low(0), kCloneParent, kDeny, otherwise);
}

// seccomp(unsigned int op, unsigned int flags, void *uargs): the syscall
// wrapper truncates op and flags to 32 bits, so only their low words count.
// SET_MODE_FILTER without NEW_LISTENER is allowed, with it denied; any other
// op returns `other`.
void emit_seccomp_guard(Assembler& a, std::uint32_t other) {
  const std::string set_mode = a.fresh("set_mode"), not_set_mode = a.fresh("other");
  a.ld_abs(arg_low(0));
  a.jeq(kSeccompSetModeFilter, set_mode, not_set_mode);
  a.label(set_mode);
  emit_bit_test(a, arg_low(1), kSeccompFlagNewListener, kDeny, kAllow);
  a.label(not_set_mode);
  a.ret(other);
}

// seccomp(SET_MODE_FILTER, ...) allowed, every other op `otherwise`; op is
// an unsigned int (low word only).
void emit_seccomp_exempt(Assembler& a, std::uint32_t otherwise) {
  const std::pair<std::uint32_t, std::uint32_t> words[] = {{arg_low(0), kSeccompSetModeFilter}};
  emit_exact_args(a, words, kAllow, otherwise);
}

// prctl(int option, unsigned long arg2, ...): option is truncated to 32 bits
// (low word only), arg2 is read whole (both words).
void emit_prctl_exempt(Assembler& a, std::uint32_t otherwise) {
  const std::pair<std::uint32_t, std::uint32_t> words[] = {
      {arg_low(0), kPrSetNoNewPrivs}, {arg_low(1), 1}, {arg_high(1), 0}};
  emit_exact_args(a, words, kAllow, otherwise);
}

void emit_leaf(Assembler& a, Verdict v, std::uint32_t deny) {
  switch (v) {
    case Verdict::allow: return a.ret(kAllow);
    case Verdict::deny: return a.ret(deny);
    case Verdict::notify: return a.ret(kNotify);
    case Verdict::nosys: return a.ret(kNoSys);
    case Verdict::clone_guarded: return emit_clone_guard(a, kAllow);  // CLONE_PARENT: EPERM, a guard
    case Verdict::clone_guarded_notify: return emit_clone_guard(a, kNotify);
    case Verdict::seccomp_exempt: return emit_seccomp_exempt(a, deny);
    case Verdict::seccomp_exempt_notify: return emit_seccomp_guard(a, kNotify);
    case Verdict::seccomp_guarded: return emit_seccomp_guard(a, kAllow);
    case Verdict::seccomp_exempt_guarded: return emit_seccomp_guard(a, deny);
    case Verdict::prctl_exempt: return emit_prctl_exempt(a, deny);
    case Verdict::prctl_exempt_notify: return emit_prctl_exempt(a, kNotify);
  }
}

// A holds nr, known to lie in [runs.front().first, end of runs.back()).
// Preorder layout (node, lower half, upper half) keeps every jump forward;
// the lower half falls through.
void emit_search(Assembler& a, std::span<const Run> runs) {
  if (runs.size() == 1) {
    emit_leaf(a, runs.front().verdict, runs.front().deny);
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

Result<Program> compile(const SyscallSet& allowed, const SyscallSet& notify, const DenyErrnos& errnos) {
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
  const auto runs = runs_of(allowed, notify, errnos);
  emit_search(a, runs);
  return a.finish();
}

}  // namespace syscg::bpf
