#include "fs/render.h"

#include "core/formats/oci.h"
#include "core/formats/systemd.h"
#include "core/grammar.h"
#include "core/io_uring_table.h"
#include "enforcer/bpf/compiler.h"
#include "core/syscall_table.h"

#include <fmt/format.h>

#include <cstddef>
#include <iterator>
#include <span>

namespace syscg::fs::render {

std::string stat(const GroupInfo& info) {
  return fmt::format("nr_descendants {}\nnr_members {}\n", info.nr_descendants, info.nr_members);
}

std::string events(bool populated) { return fmt::format("populated {}\n", populated ? 1 : 0); }

std::string procs(std::span<const Pid> members) {
  std::string out;
  for (Pid p : members) fmt::format_to(std::back_inserter(out), "{}\n", p);
  return out;
}

std::string stricter(std::span<const MemberLosses> members) {
  std::string out;
  for (const auto& m : members)
    for (const auto& loss : m.losses)
      fmt::format_to(std::back_inserter(out), "{} {} {}\n", m.pid, grammar::format_syscall_ranges(loss.numbers),
                     loss.reason);
  return out;
}

std::string denied(const std::map<unsigned, std::uint64_t>& counts) {
  std::string out;
  for (const auto& [nr, count] : counts)
    fmt::format_to(std::back_inserter(out), "{} {} {}\n", nr, syscall_table::name(nr).value_or("-"), count);
  return out;
}

Result<std::string> bpf(const GroupInfo& info) {
  BOOST_OUTCOME_TRY(program, bpf::compile(enforced(info.allowed), {}, info.errnos));
  const std::span<const sock_filter> code(program.data(), program.size());
  const auto bytes = std::as_bytes(code);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string oci(const GroupInfo& info) { return formats::to_oci(enforced(info.allowed), info.errnos); }

std::string systemd(const GroupInfo& info) { return formats::to_systemd(enforced(info.allowed), info.errnos); }

std::string denial_line(Pid tgid, std::string_view path, unsigned nr, std::uint64_t count, bool complain) {
  return fmt::format("{}: process {} in {} called {} ({}); {} denial(s) of it there{}",
                     complain ? "complain" : "denied", tgid, path, nr, syscall_table::name(nr).value_or("unnamed"),
                     count, complain ? " (complain mode: it ran)" : "");
}

}  // namespace syscg::fs::render
