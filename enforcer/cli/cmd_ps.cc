// syscg ps [-m MOUNT] [PID...] [--json]
//
// The group of each PID, found in the groups' cgroup.procs; a running
// process listed in no group is in the root, "/". Without PIDs, every
// member of every group, by pid. --json: one document, an array of
// {"pid", "group"}. A PID that names no process is an error (status 1)
// after the others are printed; a PID that is not a positive decimal number
// is a usage error (status 2).
#include "enforcer/cli/commands.h"
#include "enforcer/cli/mount_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace syscg::cli {

namespace {

Pid parse_pid(const std::string& text) {
  Pid pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc{} || end != text.data() + text.size() || pid <= 0)
    throw CliError(kUsage, fmt::format("ps: '{}' is not a process id; usage: syscg ps [PID...] [--json]", text));
  return pid;
}

// Whether `pid` names a process (signal 0 checks without sending; EPERM: it
// exists but is not ours).
bool exists(Pid pid) {
  if (kill(pid, 0) == 0) return true;
  if (errno == ESRCH) return false;
  if (errno == EPERM) return true;
  throw CliError(kFailed, fmt::format("cannot look up process {}: {}", pid, std::strerror(errno)));
}

// Every member's group, from every group's cgroup.procs.
std::map<Pid, std::string> membership(const std::string& mount_dir) {
  std::map<Pid, std::string> out;
  for (const auto& path : mount::groups(mount_dir)) {
    const auto procs = mount::read_control(mount_dir, path, "cgroup.procs");
    if (!procs) continue;  // removed while we read
    for (const Pid pid : mount::parse_procs(*procs)) out.insert_or_assign(pid, path);
  }
  return out;
}

void run(const Common& common, const std::vector<std::string>& args, bool json) {
  std::vector<Pid> pids;
  for (const auto& a : args) pids.push_back(parse_pid(a));
  const auto groups = membership(common.mount);
  std::vector<std::pair<Pid, std::string>> rows;
  std::vector<Pid> missing;
  if (pids.empty()) rows.assign(groups.begin(), groups.end());
  for (const Pid pid : pids) {
    if (const auto it = groups.find(pid); it != groups.end())
      rows.emplace_back(pid, it->second);
    else if (exists(pid))
      rows.emplace_back(pid, "/");
    else
      missing.push_back(pid);
  }
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& [pid, group] : rows) out.push_back({{"pid", pid}, {"group", group}});
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  } else {
    fmt::print("{:>7}  GROUP\n", "PID");
    for (const auto& [pid, group] : rows) fmt::print("{:>7}  {}\n", pid, group);
  }
  if (!missing.empty()) {
    std::fflush(stdout);  // the rows first, then the error
    throw CliError(kFailed, fmt::format("no process {}", fmt::join(missing, ", ")));
  }
}

}  // namespace

void add_ps(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand("ps", "the group of each PID (default: every member of every group)");
  auto pids = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("pid", *pids, "process ids");
  sub->add_flag("--json", *json, "print one JSON document");
  sub->callback([&common, pids, json] { run(common, *pids, *json); });
}

}  // namespace syscg::cli
