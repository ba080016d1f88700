// syscg show [-m MOUNT] GROUP [--json]
//
// One group's policy and what came of it: the numbers it denies with their
// names and errnos (syscalls.deny), its members (cgroup.procs), its
// warnings (syscalls.warnings), its stricter members (syscalls.stricter)
// and the supervisor's denial counts (syscalls.denied). --json: one
// document {"path", "members", "deny": [{"nr", "name", "errno"}],
// "warnings": [{"tag", "subject", "fix"}], "stricter": [{"pid", "numbers",
// "ranges", "reason"}], "denials": [{"nr", "name", "count"}]}; a number
// without a name has "name": null.
#include "core/errno_names.h"
#include "core/syscall_table.h"
#include "enforcer/cli/commands.h"
#include "enforcer/cli/mount_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace syscg::cli {

namespace {

struct Shown {
  std::string path;
  std::vector<Pid> members;
  std::vector<mount::DeniedNumber> deny;
  std::vector<mount::Warning> warnings;
  std::vector<mount::StricterMember> stricter;
  std::vector<mount::DenialCount> denials;
};

Shown read_group(const Common& common, const std::string& group) {
  Shown s;
  s.path = mount::require_group(common.mount, group);
  const auto read = [&](std::string_view file) {
    auto text = mount::read_control(common.mount, s.path, file);
    if (!text) throw CliError(kFailed, fmt::format("no group '{}' under {}", group, common.mount));
    return std::move(*text);
  };
  s.members = mount::parse_procs(read("cgroup.procs"));
  s.deny = mount::parse_deny(read("syscalls.deny"));
  s.warnings = mount::parse_warnings(read("syscalls.warnings"));
  s.stricter = mount::parse_stricter(read("syscalls.stricter"));
  s.denials = mount::parse_denied(read("syscalls.denied"));
  return s;
}

nlohmann::ordered_json name_json(unsigned nr) {
  const auto name = syscall_table::name(nr);
  return name ? nlohmann::ordered_json(*name) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json to_json(const Shown& s) {
  nlohmann::ordered_json deny = nlohmann::ordered_json::array(), warnings = nlohmann::ordered_json::array(),
                         stricter = nlohmann::ordered_json::array(), denials = nlohmann::ordered_json::array();
  for (const auto& d : s.deny)
    deny.push_back({{"nr", d.nr}, {"name", name_json(d.nr)}, {"errno", errno_names::name(d.err)}});
  for (const auto& w : s.warnings) warnings.push_back({{"tag", w.tag}, {"subject", w.subject}, {"fix", w.fix}});
  for (const auto& m : s.stricter) {
    std::vector<unsigned> numbers(m.numbers.begin(), m.numbers.end());
    stricter.push_back({{"pid", m.pid}, {"numbers", numbers}, {"ranges", m.ranges}, {"reason", m.reason}});
  }
  for (const auto& d : s.denials) denials.push_back({{"nr", d.nr}, {"name", name_json(d.nr)}, {"count", d.count}});
  return {{"path", s.path},
          {"members", s.members},
          {"deny", std::move(deny)},
          {"warnings", std::move(warnings)},
          {"stricter", std::move(stricter)},
          {"denials", std::move(denials)}};
}

void print_text(const Shown& s) {
  fmt::print("group: {}\n", s.path);
  fmt::print("members: {}\n", s.members.empty() ? "none" : fmt::format("{}", fmt::join(s.members, " ")));
  fmt::print("denied numbers: {}\n", s.deny.empty() ? "none" : std::to_string(s.deny.size()));
  for (const auto& d : s.deny)
    fmt::print("  {:>3} {} {}\n", d.nr, syscall_table::name(d.nr).value_or("-"), errno_names::name(d.err));
  fmt::print("warnings: {}\n", s.warnings.empty() ? "none" : std::to_string(s.warnings.size()));
  for (const auto& w : s.warnings) fmt::print("  {} {} {}\n", w.tag, w.subject, w.fix);
  fmt::print("stricter: {}\n", s.stricter.empty() ? "none" : std::to_string(s.stricter.size()));
  for (const auto& m : s.stricter) fmt::print("  {} {} {}\n", m.pid, m.ranges, m.reason);
  fmt::print("denials: {}\n", s.denials.empty() ? "none" : std::to_string(s.denials.size()));
  for (const auto& d : s.denials) fmt::print("  {:>3} {} {}\n", d.nr, d.name, d.count);
}

}  // namespace

void add_show(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand("show", "a group's denied numbers, warnings, stricter members and denials");
  auto group = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("group", *group, "the group, as a path below the mount ('/' for the root)")->required();
  sub->add_flag("--json", *json, "print one JSON document");
  sub->callback([&common, group, json] {
    const Shown s = read_group(common, *group);
    if (*json)
      fmt::print("{}\n", to_json(s).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    else
      print_text(s);
  });
}

}  // namespace syscg::cli
