#include "fs/rows.h"

#include "core/errno_names.h"
#include "core/grammar.h"
#include "fs/inode.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <unordered_map>

namespace syscg::fs {
namespace {

Error corrupt(std::string_view why) { return make_error(Errc::invalid, std::string(why)); }

std::optional<std::size_t> file_index(std::string_view name) {
  for (std::size_t i = 0; i < kControlFiles.size(); ++i)
    if (kControlFiles[i].name == name) return i;
  return std::nullopt;
}

}  // namespace

std::string format_denied(const SyscallSet& allowed, const DenyErrnos& errnos) {
  std::string out;
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    if (allowed.test(nr)) continue;
    const int err = errnos.of(nr);
    unsigned last = nr;
    while (last + 1 < kSyscallWidth && !allowed.test(last + 1) && errnos.of(last + 1) == err) ++last;
    if (!out.empty()) out += ',';
    out += last == nr ? fmt::format("{}", nr) : fmt::format("{}-{}", nr, last);
    if (err != EPERM) out += fmt::format(":{}", errno_names::name(err));
    nr = last;
  }
  return out;
}

std::optional<DeniedColumn> parse_denied(std::string_view text) {
  DeniedColumn out{SyscallSet::all(), {}};
  if (text.empty()) return out;
  // The deny grammar reads it, but stricter: numbers only, no spaces.
  if (text.find_first_not_of("0123456789,-:ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) return std::nullopt;
  auto w = grammar::parse_list_write(text, grammar::ListFile::deny);
  if (!w) return std::nullopt;
  out.allowed.subtract(w.value().numbers);
  out.errnos = std::move(w.value().errnos);
  return out;
}

std::vector<RowOp> file_rows(RowKey group, const std::array<OwnerMode, kStateFiles>& files) {
  std::vector<RowOp> ops;
  ops.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i)
    ops.emplace_back(PutFile{FileRow{group, std::string(kControlFiles[i].name), files[i]}});
  return ops;
}

std::vector<RowOp> state_rows(const State& state, std::span<const RowKey> keys) {
  std::vector<RowOp> ops{DropAll{}};
  std::unordered_map<std::string, RowKey> key_of;
  for (std::size_t i = 0; i < state.groups.size() && i < keys.size(); ++i) {
    const auto& g = state.groups[i];
    RowKey parent = 0;
    std::string name;
    if (g.path != "/") {
      const auto slash = g.path.rfind('/');
      parent = key_of.at(slash == 0 ? std::string("/") : g.path.substr(0, slash));
      name = g.path.substr(slash + 1);
    }
    key_of[g.path] = keys[i];
    ops.emplace_back(PutGroup{
        GroupRow{keys[i], parent, name, g.allowed, g.errnos, g.complain, g.max_depth, g.max_descendants, g.dir}});
    auto files = file_rows(keys[i], g.files);
    ops.insert(ops.end(), files.begin(), files.end());
  }
  for (const auto& m : state.members)
    if (auto k = key_of.find(m.path); k != key_of.end())
      ops.emplace_back(PutMember{MemberRow{m.pid, m.start_time, k->second}});
  return ops;
}

Result<KeyedState> to_state(const Rows& rows) {
  KeyedState out;
  if (rows.groups.empty()) {
    if (!rows.files.empty() || !rows.members.empty()) return corrupt("files or members without groups");
    return out;
  }
  std::map<RowKey, const GroupRow*> by_key;
  std::map<RowKey, std::vector<const GroupRow*>> children;
  const GroupRow* root = nullptr;
  for (const auto& g : rows.groups) {
    if (g.key <= 0 || !by_key.emplace(g.key, &g).second) return corrupt(fmt::format("group {}: a bad key", g.key));
    if (g.parent == 0) {
      if (root) return corrupt(fmt::format("group {}: a second root", g.key));
      root = &g;
    } else {
      children[g.parent].push_back(&g);
    }
  }
  if (!root) return corrupt("no root group");
  if (!root->name.empty() || !root->allowed.full())
    return corrupt("the root group must be unnamed and allow everything");
  // Files, indexed by group.
  std::map<RowKey, std::array<std::optional<OwnerMode>, kStateFiles>> files;
  for (const auto& f : rows.files) {
    const auto i = file_index(f.name);
    if (!i || !by_key.contains(f.group) || f.meta.mode > 07777)
      return corrupt(fmt::format("file {} of group {}: unknown or malformed", f.name, f.group));
    files[f.group][*i] = f.meta;
  }
  // Parents first, from the root: a group not reached is not under it.
  std::map<RowKey, std::string> paths;
  std::vector<const GroupRow*> order{root};
  for (std::size_t next = 0; next < order.size(); ++next) {
    const GroupRow& g = *order[next];
    const std::string path = g.parent == 0 ? "/" : (paths.at(g.parent) == "/" ? "" : paths.at(g.parent)) + "/" + g.name;
    paths[g.key] = path;
    if (g.parent != 0) {
      if (!grammar::check_group_name(g.name)) return corrupt(fmt::format("group {}: invalid name", g.key));
      const auto& parent = *by_key.at(g.parent);
      if (!g.allowed.is_subset_of(parent.allowed) || !g.allowed.test(kRestartSyscall))
        return corrupt(fmt::format("{}: its set is not within its parent's", path));
      if (g.complain && parent.parent != 0 && !parent.complain)
        return corrupt(fmt::format("{}: complains under an enforcing parent", path));
    }
    if (g.max_depth < 0 || g.max_descendants < 0) return corrupt(fmt::format("{}: a negative limit", path));
    GroupRecord r{.path = path,
                  .allowed = g.allowed,
                  .errnos = g.errnos,
                  .complain = g.complain,
                  .max_depth = g.max_depth,
                  .max_descendants = g.max_descendants,
                  .dir = g.dir,
                  .files = {}};
    if (g.dir.mode > 07777) return corrupt(fmt::format("{}: a bad mode", path));
    const auto f = files.find(g.key);
    for (std::size_t i = 0; i < kStateFiles; ++i) {
      if (f == files.end() || !f->second[i])
        return corrupt(fmt::format("{}: {} is missing", path, kControlFiles[i].name));
      r.files[i] = *f->second[i];
    }
    out.state.groups.push_back(std::move(r));
    out.keys.push_back(g.key);
    std::set<std::string_view> names;
    if (auto c = children.find(g.key); c != children.end())
      for (const GroupRow* child : c->second) {
        if (!names.insert(child->name).second)
          return corrupt(fmt::format("{}: two children named '{}'", path, child->name));
        order.push_back(child);
      }
  }
  if (order.size() != rows.groups.size()) return corrupt("groups not under the root (a missing parent or a cycle)");
  for (const auto& m : rows.members) {
    const auto p = paths.find(m.group);
    if (m.pid <= 0 || p == paths.end()) return corrupt(fmt::format("member {}: no group {}", m.pid, m.group));
    out.state.members.push_back({m.pid, m.start_time, p->second});
  }
  return out;
}

}  // namespace syscg::fs
