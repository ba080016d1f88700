// syscg tree [-m MOUNT] [--json]
//
// Every group of the mount as a tree: its path, how many calls the
// supervisor denied its members (the sum of syscalls.denied) and its
// members (cgroup.procs). --json: one document, the root group with its
// "children", each {"path", "denied", "members", "children"}.
#include "enforcer/cli/commands.h"
#include "enforcer/cli/mount_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace syscg::cli {

namespace {

struct Node {
  std::string path;
  std::size_t depth;  // 0 for the root
  std::vector<Pid> members;
  std::uint64_t denied;
};

std::vector<Node> read_tree(const std::string& mount_dir) {
  std::vector<Node> out;
  for (const auto& path : mount::groups(mount_dir)) {
    const auto procs = mount::read_control(mount_dir, path, "cgroup.procs");
    const auto denied = mount::read_control(mount_dir, path, "syscalls.denied");
    if (!procs || !denied) continue;  // removed while we read
    std::uint64_t total = 0;
    for (const auto& d : mount::parse_denied(*denied)) total += d.count;
    const auto depth = path == "/" ? 0 : static_cast<std::size_t>(std::ranges::count(path, '/'));
    out.push_back({path, depth, mount::parse_procs(*procs), total});
  }
  return out;
}

// The subtree at nodes[i]; i moves past it. Nodes are in walk order, so a
// node's children are the following nodes one level deeper.
nlohmann::ordered_json subtree(const std::vector<Node>& nodes, std::size_t& i) {
  const Node& n = nodes[i++];
  nlohmann::ordered_json children = nlohmann::ordered_json::array();
  while (i < nodes.size() && nodes[i].depth > n.depth) children.push_back(subtree(nodes, i));
  return {{"path", n.path}, {"denied", n.denied}, {"members", n.members}, {"children", std::move(children)}};
}

std::string label(const Node& n) {
  return std::string(2 * n.depth, ' ') + (n.depth == 0 ? "/" : n.path.substr(n.path.rfind('/') + 1));
}

void run(const Common& common, bool json) {
  const auto nodes = read_tree(common.mount);
  if (json) {
    std::size_t i = 0;
    fmt::print("{}\n", nodes.empty()
                           ? nlohmann::ordered_json::object().dump()
                           : subtree(nodes, i).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    return;
  }
  std::size_t width = std::string_view("GROUP").size();
  for (const auto& n : nodes) width = std::max(width, label(n).size());
  fmt::print("{:<{}}  {:>6}  MEMBERS\n", "GROUP", width, "DENIED");
  for (const auto& n : nodes) {
    const std::string line = fmt::format("{:<{}}  {:>6}  {}", label(n), width, n.denied, fmt::join(n.members, " "));
    fmt::print("{}\n", std::string_view(line).substr(0, line.find_last_not_of(' ') + 1));
  }
}

}  // namespace

void add_tree(CLI::App& app, const Common& common) {
  auto* sub = app.add_subcommand("tree", "every group as a tree: its denials (syscalls.denied) and members");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "print one JSON document");
  sub->callback([&common, json] { run(common, *json); });
}

}  // namespace syscg::cli
