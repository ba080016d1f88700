// A re-adopted member's filter record, read back from the filters the
// kernel holds for it (members recorded by a previous daemon).
//
// Contract:
//  - record_from() is pure: it runs `programs` (a process's filter chain)
//    in the BPF interpreter for every number, arguments 0, and keeps the
//    most restrictive action the kernel would: allow/log (or a verdict that
//    depends on arguments: counted as callable, so a later deny stacks a
//    filter) -> hard; USER_NOTIF (a previous daemon's listener, gone) ->
//    unsupervised ("daemon-restarted"), or routed for the numbers of
//    `handed` (the previous daemon handed its listeners over: a
//    controlled restart); anything else -> tightened. clone3
//    under our clone guard is the group's verdict, not a loss. nullopt when
//    a program cannot be run by the interpreter.
//  - The chain itself is read by Tracer::filters_of (ptrace belongs to the
//    tracer thread).
#pragma once

#include "core/ids.h"
#include "enforcer/bpf/program.h"
#include "enforcer/filters.h"

#include <optional>
#include <vector>

namespace syscg::enforcer {

// Whether one of the programs is ours with its clone guard:
// clone(CLONE_PARENT) refused with EPERM, clone3 with ENOSYS.
bool has_clone_guard(const std::vector<bpf::Program>& programs);
std::optional<Filters> record_from(const std::vector<bpf::Program>& programs,
                                   const SyscallSet& handed = SyscallSet::none());

}  // namespace syscg::enforcer
