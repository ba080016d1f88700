// The text of control files (pure: formats what the caller gathered).
//
// Every file is lines ending in '\n', empty when there is nothing to say;
// the formats are the README's and cgroup v2's where a file mirrors one.
#pragma once

#include "core/enforcement.h"
#include "core/hierarchy.h"
#include "core/ids.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace syscg::fs::render {

// cgroup.stat: "nr_descendants N\nnr_members N\n".
std::string stat(const GroupInfo& info);
// cgroup.events: "populated 0|1\n".
std::string events(bool populated);
// cgroup.procs: a pid per line, as given (ascending).
std::string procs(std::span<const Pid> members);

// syscalls.stricter: "PID NUMBERS REASON" per loss of each member.
struct MemberLosses {
  Pid pid;
  std::vector<Loss> losses;
};
std::string stricter(std::span<const MemberLosses> members);

// syscalls.denied: "NR NAME COUNT" per denied number ("-" for an unnamed one).
std::string denied(const std::map<unsigned, std::uint64_t>& counts);

// The exports of a group's policy as its members' filters enforce it
// (io_uring dropped where it would bypass the set: core/io_uring_table.h):
// syscalls.bpf, the compiled filter (enforcer/bpf/compiler.h) as raw
// struct sock_filter bytes, 8 per instruction, for `bwrap --seccomp FD`;
// syscalls.oci and syscalls.systemd (core/formats/). Errors: the
// compiler's (which the fixed shape rules out).
Result<std::string> bpf(const GroupInfo& info);
std::string oci(const GroupInfo& info);
std::string systemd(const GroupInfo& info);

// The log line of a denial ("denied: process ..."); `path` is the group's.
// In complain mode (`complain`) the line says so: the call ran.
std::string denial_line(Pid tgid, std::string_view path, unsigned nr, std::uint64_t count, bool complain = false);

}  // namespace syscg::fs::render
