// A group's policy as an OCI runtime-spec `linux.seccomp` object (the form
// runc, crun, Docker/Podman `--security-opt seccomp=FILE` and Kubernetes
// `Localhost` profiles read), and back. Pure: text in, text or values out.
//
// EXPORT, to_oci(allowed, errnos): one JSON object, newline-terminated,
// deterministic (golden-tested):
//   {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
//    "architectures": ["SCMP_ARCH_X86_64"],
//    "syscalls": [{"names": [allowed names...], "action": "SCMP_ACT_ALLOW"},
//                 {"names": [...], "action": "SCMP_ACT_ERRNO", "errnoRet": E}, ...]}
//  - AN ALLOW-LIST with a default ERRNO(EPERM), because it fails closed: a
//    number that has no name in syscg's table (libseccomp's), or that the
//    runtime's libseccomp does not know, is denied, never allowed by
//    accident. syscg's own filter allows such numbers when the set does; the
//    export is then stricter for them, never looser. Rules list names by
//    ascending number.
//  - ERRNO RULES, one per errno other than EPERM (ascending errno), for the
//    denied numbers whose DenyErrnos entry says so; EPERM needs no rule.
//  - clone3 is always ERRNO(ENOSYS) (38), whatever the sets say, as syscg's
//    filter does (enforcer/bpf/compiler.h) and Docker's default profile does:
//    glibc then falls back to clone.
//  - restart_syscall is always allowed.
//  - ARCHITECTURES: only SCMP_ARCH_X86_64. Docker lists SCMP_ARCH_X86 and
//    SCMP_ARCH_X32 beside it for x86_64, which makes libseccomp allow the
//    same NAMES as i386 (`int 0x80`) and x32 calls; syscg's filter denies
//    every call of another architecture and every x32 number, so listing
//    them would loosen the policy. Unlisted, such calls meet the runtime's
//    bad-architecture action (a denial: the call never runs).
//  - NOT EXPORTED, as they are syscg's mechanism and not the group's policy:
//    the clone(CLONE_PARENT) guard (it keeps fork events truthful for syscg's
//    membership tracking) and the seccomp(SET_MODE_FILTER) / prctl(NO_NEW_PRIVS)
//    exemptions (they let syscg tighten running members). A runtime installs
//    its filter itself.
//
// IMPORT, from_oci(json, options): the policy a profile means for an x86_64
// process. Accepts a bare `linux.seccomp` object, a Docker / Podman /
// Security-Profiles-Operator profile (`archMap`, `includes`/`excludes`,
// `name` or `names`, `comment`), or a whole OCI config.json (its
// linux.seccomp). The rules:
//  - defaultAction and each rule's action map to a verdict: ALLOW -> allowed;
//    ERRNO -> denied with errnoRet (defaultErrnoRet for the default; EPERM
//    when unset, as the spec says); LOG -> allowed (the kernel runs a logged
//    call; syscg does not log); KILL, KILL_PROCESS, KILL_THREAD, TRAP,
//    NOTIFY -> denied with EPERM (the call does not run, but the process is
//    not killed / signalled / asked about); TRACE -> denied with ENOSYS (the
//    kernel's answer without a tracer). Each such mapping adds a `dropped`
//    line. An unknown action, a bad errno (not 1..4095), a rule with both
//    `name` and `names`, a profile with both `architectures` and `archMap`:
//    Errc::invalid.
//  - For each number, the rules that name it decide, the most restrictive
//    first (the kernel's order of precedence: KILL > TRAP > ERRNO > NOTIFY >
//    TRACE > LOG > ALLOW); a number no rule names takes the default, numbers
//    without a name included.
//  - `includes` / `excludes` are evaluated as Docker does, against
//    `options`: arches (the native one is "amd64", "x86_64" is accepted too),
//    caps (all of `includes.caps` present; any of `excludes.caps` present
//    excludes), minKernel (options.kernel >= it; without options.kernel every
//    minKernel is taken as met, the profile as on a current kernel). A rule
//    left out this way is not a dropped rule.
//  - ARGUMENT CONDITIONS (`args`): syscg decides by number alone. A rule whose
//    action equals the default's changes nothing and is ignored. Otherwise,
//    per options.conditional: refuse -> Errc::invalid, whose message lists
//    every such rule, one per line after a first line; widen -> a conditional
//    ALLOW / LOG rule allows its names unconditionally and a conditional
//    denying rule is ignored (the call stays as the other rules and the
//    default say); narrow -> a conditional ALLOW / LOG rule is ignored and a
//    conditional denying rule denies unconditionally. One dropped line each.
//  - Names unknown on x86_64 are ignored: one dropped line per rule lists them.
//  - Architectures other than x86_64 (`architectures`, or the x86_64
//    entry's subArchitectures in `archMap`): one dropped line; syscg denies
//    every call of another architecture.
//  - clone3 allowed by the profile: a dropped line (syscg's filter answers
//    ENOSYS for it always). restart_syscall is always allowed.
//  - Invalid JSON or a wrong type anywhere: Errc::invalid, one line.
//  Round trip: from_oci(to_oci(a, e)) gives back `a` and `e` for every number
//  that has a name in syscg's table, but clone3 (always denied, ENOSYS).
#pragma once

#include "core/deny_errnos.h"
#include "core/error.h"
#include "core/syscall_set.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syscg::formats {

std::string to_oci(const SyscallSet& allowed, const DenyErrnos& errnos);

// What from_oci does with a rule that has argument conditions (see above).
enum class Conditional { refuse, widen, narrow };

struct ImportOptions {
  std::vector<std::string> caps;      // capabilities the container would have: "CAP_SYS_ADMIN" (or "SYS_ADMIN")
  std::optional<std::string> kernel;  // "5.15" (a release such as "6.1.0-18-amd64" is read as 6.1)
  Conditional conditional = Conditional::refuse;
};

struct Imported {
  SyscallSet allowed;
  DenyErrnos errnos;                 // for the denied numbers
  std::vector<std::string> dropped;  // one human-readable line each, no trailing newline
};

Result<Imported> from_oci(std::string_view json, const ImportOptions& options);

}  // namespace syscg::formats
