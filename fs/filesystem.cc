#include "fs/filesystem.h"

#include "core/grammar.h"
#include "core/io_uring_table.h"
#include "core/syscall_table.h"
#include "core/warnings.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <set>

namespace syscg::fs {
static_assert(kControlFiles.size() == kStateFiles);

namespace {

timespec now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

const ControlFile* find_control(std::string_view name) {
  for (const auto& f : kControlFiles)
    if (f.name == name) return &f;
  return nullptr;
}

std::size_t index_of(FileKind kind) {
  for (std::size_t i = 0; i < kControlFiles.size(); ++i)
    if (kControlFiles[i].kind == kind) return i;
  return 0;
}

bool is_policy_file(FileKind k) { return k == FileKind::syscalls_allow || k == FileKind::syscalls_deny; }
bool is_read_only(FileKind k) {
  return k == FileKind::stat || k == FileKind::events || k == FileKind::stricter || k == FileKind::denied ||
         k == FileKind::warnings;
}

Error not_a_group_dir() { return make_error(Errc::not_dir, "a control file is not a directory"); }
Error root_policy() { return make_error(Errc::permission, "the root group's policy cannot be changed"); }

}  // namespace

Ino inode_of(GroupId group, FileKind kind) {
  if (kind == FileKind::dir) return group;
  return kFileInoBit | (group << 8) | static_cast<Ino>(kind);
}

InodeRef decode_inode(Ino ino) {
  if ((ino & kFileInoBit) == 0) return {ino, FileKind::dir};
  return {(ino & ~kFileInoBit) >> 8, static_cast<FileKind>(ino & 0xff)};
}

struct Filesystem::Handle {
  Ino ino;
  GroupId group;
  FileKind kind;
  int flags;
  Caller opener;  // cgroup.procs checks the opener's credentials, as the kernel's f_cred
  std::mutex mu;  // guards the snapshot
  std::string snapshot;
  bool has_snapshot = false;
  std::uint64_t seen_generation = 0;  // cgroup.events: generation at the last snapshot
  std::unique_ptr<PollWaiter> waiter;  // guarded by handles_mu_
  std::vector<DirEntry> entries;      // directories: taken at opendir
};

Filesystem::Filesystem(Hierarchy& hierarchy, Enforcement& enforcement, sys::Log& log, Options options)
    : hierarchy_(hierarchy), enforcement_(enforcement), log_(log), options_(std::move(options)) {
  const Caller& owner = options_.owner;
  const auto t = now();
  GroupMeta root{.dir = {0755, owner.uid, owner.gid, t, t}, .files = {}};
  for (std::size_t i = 0; i < kControlFiles.size(); ++i) {
    const auto& f = kControlFiles[i];
    root.files[i] = {is_policy_file(f.kind) ? mode_t{0444} : f.mode, owner.uid, owner.gid, t, t};
  }
  meta_.emplace(kRootGroup, root);
}

Filesystem::~Filesystem() = default;

Result<struct stat> Filesystem::stat_locked(Ino ino) const {
  const auto ref = decode_inode(ino);
  auto meta = meta_.find(ref.group);
  if (meta == meta_.end()) return make_error(Errc::not_found, fmt::format("no inode {}", ino));
  struct stat st {};
  st.st_ino = ino;
  st.st_blksize = 4096;
  const Meta* m = &meta->second.dir;
  if (ref.kind == FileKind::dir) {
    BOOST_OUTCOME_TRY(info, hierarchy_.info(ref.group));
    st.st_mode = S_IFDIR | m->mode;
    st.st_nlink = static_cast<nlink_t>(2 + info.nr_children);
  } else {
    const auto& f = kControlFiles[index_of(ref.kind)];
    if (ref.group == kRootGroup && !f.in_root) return make_error(Errc::not_found, "no such file in the root");
    m = &meta->second.files[index_of(ref.kind)];
    st.st_mode = S_IFREG | m->mode;
    st.st_nlink = 1;
  }
  st.st_uid = m->uid;
  st.st_gid = m->gid;
  st.st_atim = m->mtime;
  st.st_mtim = m->mtime;
  st.st_ctim = m->ctime;
  return st;
}

Result<struct stat> Filesystem::getattr(Ino ino) const {
  std::shared_lock lock(meta_mu_);
  return stat_locked(ino);
}

Result<Entry> Filesystem::lookup(Ino parent, std::string_view name) const {
  const auto ref = decode_inode(parent);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  Ino ino;
  if (const auto* f = find_control(name); f && (ref.group != kRootGroup || f->in_root)) {
    ino = inode_of(ref.group, f->kind);
  } else {
    BOOST_OUTCOME_TRY(child, hierarchy_.lookup(ref.group, name));
    ino = inode_of(child, FileKind::dir);
  }
  std::shared_lock lock(meta_mu_);
  BOOST_OUTCOME_TRY(st, stat_locked(ino));
  return Entry{ino, st};
}

Result<struct stat> Filesystem::setattr(Ino ino, const struct stat& in, int to_set, const Caller&) {
  std::lock_guard wlock(write_mu_);
  {
    std::unique_lock lock(meta_mu_);
    BOOST_OUTCOME_TRY(stat_locked(ino));
    const auto ref = decode_inode(ino);
    auto& gm = meta_.find(ref.group)->second;  // exists while we hold meta_mu_
    Meta& m = ref.kind == FileKind::dir ? gm.dir : gm.files[index_of(ref.kind)];
    // default_permissions: the kernel has already checked ownership and
    // CAP_CHOWN / CAP_FOWNER (setattr_prepare) before this request.
    if (to_set & set_attr::mode) m.mode = in.st_mode & 07777;
    if (to_set & set_attr::uid) m.uid = in.st_uid;
    if (to_set & set_attr::gid) m.gid = in.st_gid;
    if (to_set & set_attr::mtime) m.mtime = in.st_mtim;
    if (to_set & set_attr::mtime_now) m.mtime = now();
    m.ctime = now();
  }
  if (to_set & (set_attr::mode | set_attr::uid | set_attr::gid)) {
    BOOST_OUTCOME_TRY(persist());
  }
  std::shared_lock lock(meta_mu_);
  return stat_locked(ino);
}

void Filesystem::touch(GroupId group, FileKind kind) {
  std::unique_lock lock(meta_mu_);
  auto it = meta_.find(group);
  if (it == meta_.end()) return;
  Meta& m = kind == FileKind::dir ? it->second.dir : it->second.files[index_of(kind)];
  m.mtime = m.ctime = now();
}

Result<Entry> Filesystem::mkdir(Ino parent, std::string_view name, mode_t mode, const Caller& caller) {
  const auto ref = decode_inode(parent);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  std::lock_guard wlock(write_mu_);
  if (find_control(name)) return make_error(Errc::exists, fmt::format("'{}' is a control file", name));
  BOOST_OUTCOME_TRY(id, hierarchy_.create(ref.group, name));
  {
    // Like cgroup_kn_set_ugid(): the directory and its files belong to the creator.
    const auto t = now();
    GroupMeta gm{.dir = {mode & 07777, caller.uid, caller.gid, t, t}, .files = {}};
    for (std::size_t i = 0; i < kControlFiles.size(); ++i)
      gm.files[i] = {kControlFiles[i].mode, caller.uid, caller.gid, t, t};
    std::unique_lock lock(meta_mu_);
    meta_.emplace(id, gm);
  }
  touch(ref.group, FileKind::dir);
  BOOST_OUTCOME_TRY(persist());
  std::shared_lock lock(meta_mu_);
  BOOST_OUTCOME_TRY(st, stat_locked(id));
  return Entry{id, st};
}

Status Filesystem::rmdir(Ino parent, std::string_view name) {
  const auto ref = decode_inode(parent);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  std::lock_guard wlock(write_mu_);
  if (find_control(name)) return not_a_group_dir();
  BOOST_OUTCOME_TRY(id, hierarchy_.lookup(ref.group, name));
  prune_exited(id);  // exited members do not keep a group busy
  BOOST_OUTCOME_TRY(hierarchy_.remove(id));
  {
    std::unique_lock lock(meta_mu_);
    meta_.erase(id);
  }
  {
    std::lock_guard lock(denials_mu_);
    denials_.erase(id);
  }
  touch(ref.group, FileKind::dir);
  return persist();
}

Status Filesystem::rename(Ino parent, std::string_view name, Ino new_parent,
                          std::string_view new_name, unsigned flags) {
  if (flags & ~unsigned{RENAME_NOREPLACE}) return make_error(Errc::invalid, "only RENAME_NOREPLACE is supported");
  const auto from = decode_inode(parent), to = decode_inode(new_parent);
  if (from.kind != FileKind::dir || to.kind != FileKind::dir) return not_a_group_dir();
  std::lock_guard wlock(write_mu_);
  if (find_control(name)) return make_error(Errc::permission, "control files cannot be renamed");
  BOOST_OUTCOME_TRY(id, hierarchy_.lookup(from.group, name));
  // A group's place in the tree decides its policy; moving it under another
  // parent would change it silently, so only renames in place are allowed.
  if (from.group != to.group) return make_error(Errc::permission, "a group can be renamed only within its parent");
  BOOST_OUTCOME_TRY(hierarchy_.rename(id, new_name));
  touch(from.group, FileKind::dir);
  return persist();
}

Status Filesystem::create_file(Ino parent, std::string_view name) const {
  if (decode_inode(parent).kind != FileKind::dir) return not_a_group_dir();
  if (find_control(name) || hierarchy_.lookup(decode_inode(parent).group, name))
    return make_error(Errc::exists, fmt::format("'{}' exists", name));
  return make_error(Errc::permission, "files cannot be created in syscgfs; mkdir creates a group");
}

Status Filesystem::unlink(Ino parent, std::string_view name) const {
  const auto ref = decode_inode(parent);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  if (find_control(name)) return make_error(Errc::permission, "control files cannot be removed");
  BOOST_OUTCOME_TRY(hierarchy_.lookup(ref.group, name));
  return make_error(Errc::is_dir, "rmdir removes a group");
}

std::shared_ptr<Filesystem::Handle> Filesystem::handle(std::uint64_t id) const {
  std::lock_guard lock(handles_mu_);
  auto it = handles_.find(id);
  return it == handles_.end() ? nullptr : it->second;
}

Result<std::uint64_t> Filesystem::open(Ino ino, int flags, const Caller& caller) {
  BOOST_OUTCOME_TRY(getattr(ino));
  const auto ref = decode_inode(ino);
  if (ref.kind == FileKind::dir) return make_error(Errc::is_dir, "a group directory");
  if ((flags & O_ACCMODE) != O_RDONLY) {
    if (ref.group == kRootGroup && is_policy_file(ref.kind)) return root_policy();
    if (is_read_only(ref.kind)) return make_error(Errc::access, "a read-only control file");
  }
  auto h = std::make_shared<Handle>();
  h->ino = ino;
  h->group = ref.group;
  h->kind = ref.kind;
  h->flags = flags;
  h->opener = caller;
  {
    std::shared_lock lock(meta_mu_);
    // A concurrent rmdir may have removed the group since getattr above.
    auto it = meta_.find(ref.group);
    if (it == meta_.end()) return make_error(Errc::not_found, "the group was removed");
    h->seen_generation = it->second.events_generation;
  }
  std::lock_guard lock(handles_mu_);
  const auto id = next_handle_++;
  handles_.emplace(id, std::move(h));
  return id;
}

Result<std::string> Filesystem::render(GroupId group, FileKind kind) {
  if (kind == FileKind::procs || kind == FileKind::stat) prune_exited(group);
  BOOST_OUTCOME_TRY(info, hierarchy_.info(group));
  switch (kind) {
    case FileKind::syscalls_allow: return grammar::format_syscall_list(info.allowed);
    case FileKind::syscalls_deny: return grammar::format_syscall_list(~info.allowed);
    case FileKind::max_depth: return grammar::format_limit(info.max_depth);
    case FileKind::max_descendants: return grammar::format_limit(info.max_descendants);
    case FileKind::stat:
      return fmt::format("nr_descendants {}\nnr_members {}\n", info.nr_descendants, info.nr_members);
    case FileKind::events: {
      BOOST_OUTCOME_TRY(populated, hierarchy_.populated(group));
      return fmt::format("populated {}\n", populated ? 1 : 0);
    }
    case FileKind::procs: {
      BOOST_OUTCOME_TRY(members, hierarchy_.members(group));
      std::string out;
      for (Pid p : members) fmt::format_to(std::back_inserter(out), "{}\n", p);
      return out;
    }
    case FileKind::stricter: {
      prune_exited(group);
      BOOST_OUTCOME_TRY(members, hierarchy_.members(group));
      std::string out;
      for (Pid p : members)
        for (const auto& loss : enforcement_.stricter(p, info.allowed))
          fmt::format_to(std::back_inserter(out), "{} {} {}\n", p, grammar::format_syscall_ranges(loss.numbers),
                         loss.reason);
      return out;
    }
    case FileKind::denied: {
      std::string out;
      std::lock_guard lock(denials_mu_);
      if (auto it = denials_.find(group); it != denials_.end())
        for (const auto& [nr, count] : it->second)
          fmt::format_to(std::back_inserter(out), "{} {} {}\n", nr, syscall_table::name(nr).value_or("-"), count);
      return out;
    }
    case FileKind::warnings: return render_warnings(group, info.allowed);
    case FileKind::dir: break;
  }
  return make_error(Errc::is_dir, "a group directory");
}

std::string Filesystem::render_warnings(GroupId group, const SyscallSet& allowed) {
  prune_exited(group);
  warnings::Inputs in{.allowed = allowed, .stricter = {}, .ptrace_capable = {}, .killed = {}};
  if (auto members = hierarchy_.members(group))
    for (Pid p : members.value()) {
      if (!enforcement_.stricter(p, allowed).empty()) in.stricter.push_back(p);
      if (enforcement_.may_subvert(p)) in.ptrace_capable.push_back(p);
    }
  {
    std::lock_guard lock(denials_mu_);
    if (auto it = killed_.find(group); it != killed_.end()) in.killed = it->second;
  }
  return warnings::render(in);
}

Result<std::string> Filesystem::read(std::uint64_t id, off_t offset, std::size_t size) {
  auto h = handle(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  std::lock_guard lock(h->mu);
  if (offset == 0 || !h->has_snapshot) {
    std::uint64_t generation;
    {
      std::shared_lock mlock(meta_mu_);
      auto it = meta_.find(h->group);
      if (it == meta_.end()) return make_error(Errc::not_found, "the group was removed");
      generation = it->second.events_generation;
    }
    BOOST_OUTCOME_TRY(text, render(h->group, h->kind));
    h->snapshot = std::move(text);
    h->has_snapshot = true;
    h->seen_generation = generation;
  }
  if (offset < 0 || static_cast<std::size_t>(offset) >= h->snapshot.size()) return std::string();
  return h->snapshot.substr(static_cast<std::size_t>(offset), size);
}

Result<std::size_t> Filesystem::write(std::uint64_t id, std::string_view data, const Caller& writer) {
  auto h = handle(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  if (data.size() > grammar::kMaxWrite)
    return make_error(Errc::too_big, fmt::format("write of {} bytes exceeds {}", data.size(), grammar::kMaxWrite));
  BOOST_OUTCOME_TRY(write_command(*h, data, writer));
  touch(h->group, h->kind);
  return data.size();
}

std::optional<GroupId> Filesystem::group_of_writer(const Caller& writer) {
  // The writer's own fork came before its request, and so did every fork
  // of its ancestors: after sync() the view holds them.
  enforcement_.sync();
  auto tgid = enforcement_.thread_group(writer.pid);  // the kernel's current thread group
  if (!tgid) return std::nullopt;  // gone, or not visible: not a member either
  const auto home = hierarchy_.group_of(tgid.value());
  // A recorded member whose process is gone (its number now names the
  // writer) leaves now.
  if (home && !enforcement_.alive(tgid.value())) {
    exited(tgid.value());
    return std::nullopt;
  }
  return home;
}

Status Filesystem::check_containment(GroupId target, FileKind kind, const Caller& writer) {
  if (kind != FileKind::syscalls_allow) return outcome::success();  // moves: check_move
  const auto home = group_of_writer(writer);
  if (home && hierarchy_.contains(target, *home))
    return make_error(Errc::permission, "a member cannot loosen its own group or an ancestor");
  return outcome::success();
}

Status Filesystem::check_move(std::optional<GroupId> home, GroupId to, std::optional<GroupId> from) {
  if (!home) return outcome::success();
  if (!hierarchy_.contains(*home, to))
    return make_error(Errc::permission, "a member can move processes only within its own group's subtree");
  // A member cannot pull a process out of a group outside its own subtree
  // (out of a stricter sibling, say); a process in no group it may confine.
  if (from && !hierarchy_.contains(*home, *from))
    return make_error(Errc::permission, "a member can move only processes of its own group's subtree");
  return outcome::success();
}

Status Filesystem::write_command(Handle& h, std::string_view data, const Caller& writer) {
  BOOST_OUTCOME_TRY(check_containment(h.group, h.kind, writer));
  switch (h.kind) {
    case FileKind::syscalls_allow:
    case FileKind::syscalls_deny: {
      if (h.group == kRootGroup) return root_policy();
      const bool deny = h.kind == FileKind::syscalls_deny;
      BOOST_OUTCOME_TRY(set, grammar::parse_syscall_list(data, deny ? grammar::ListFile::deny
                                                                    : grammar::ListFile::allow));
      std::lock_guard wlock(write_mu_);
      BOOST_OUTCOME_TRY(deny ? hierarchy_.deny(h.group, set) : hierarchy_.allow(h.group, set));
      // No supervisor answer from the old policy after this one returns.
      if (deny) enforcement_.barrier();
      // Saved first: the policy is the truth even if a member cannot be reached.
      BOOST_OUTCOME_TRY(persist());
      // An allow needs nothing more: what members' supervised filters route
      // follows the policy; what their other filters deny is lost (README).
      return deny ? enforce_policy(h.group, writer) : outcome::success();
    }
    case FileKind::max_depth:
    case FileKind::max_descendants: {
      BOOST_OUTCOME_TRY(limit, grammar::parse_limit(data));
      std::lock_guard wlock(write_mu_);
      BOOST_OUTCOME_TRY(h.kind == FileKind::max_depth ? hierarchy_.set_max_depth(h.group, limit)
                                                      : hierarchy_.set_max_descendants(h.group, limit));
      return persist();
    }
    case FileKind::procs: return move_process(h, data, writer);
    case FileKind::stat:
    case FileKind::events:
    case FileKind::stricter:
    case FileKind::denied:
    case FileKind::warnings: return make_error(Errc::access, "a read-only control file");
    case FileKind::dir: break;
  }
  return make_error(Errc::is_dir, "a group directory");
}

Status Filesystem::enforce_policy(GroupId group, const Caller& writer) {
  const auto writer_process = enforcement_.thread_group(writer.pid);
  const Pid self = writer_process ? writer_process.value() : 0;
  std::set<Pid> done, filtered;
  std::optional<MemberPolicy> writer_member;
  std::optional<Error> first_error;
  enforcement_.sync();
  for (;;) {
    BOOST_OUTCOME_TRY(all, hierarchy_.subtree_members(group));
    std::vector<MemberPolicy> todo;
    {
      std::lock_guard lock(forks_mu_);
      for (const auto& m : all) {
        if (done.contains(m.pid)) continue;
        if (m.pid == self) {
          writer_member = m;  // last, on its own
          continue;
        }
        // A child whose parent was tightened in this write inherited the new
        // filter, unless it was reported back as forked before that (its
        // parent entry is then gone).
        if (auto p = parent_of_.find(m.pid); p != parent_of_.end() && filtered.contains(p->second)) continue;
        todo.push_back(m);
      }
    }
    if (todo.empty()) break;
    auto result = enforcement_.policy_changed(todo, writer.pid);
    for (const auto& m : todo) done.insert(m.pid);
    if (!result) {
      if (!first_error) first_error = result.error();
      break;
    }
    // Only a member that got the filter vouches for its later children; one
    // that exited (or was killed) first does not.
    filtered.insert(result.value().filtered.begin(), result.value().filtered.end());
    enforcement_.sync();
    std::lock_guard lock(forks_mu_);
    for (const auto& f : result.value().unfiltered)
      // Only children that are members (they forked after their parent
      // joined); those from before the move are not.
      if (hierarchy_.group_of(f.child)) parent_of_.erase(f.child);
  }
  if (writer_member) {
    const std::array<MemberPolicy, 1> one{*writer_member};
    if (auto r = enforcement_.policy_changed(one, writer.pid); !r && !first_error) first_error = r.error();
  }
  if (first_error) return *first_error;
  return outcome::success();
}

bool Filesystem::forked(Pid parent, Pid child) {
  auto group = hierarchy_.group_of(parent);
  if (!group) return false;
  if (hierarchy_.group_of(child)) return true;
  {
    std::lock_guard lock(forks_mu_);
    parent_of_[child] = parent;
  }
  const std::array<GroupId, 1> chain{*group};
  const auto before = populated_chain(chain);
  if (!hierarchy_.attach(*group, child)) return false;
  events_changed(chain, before);
  return true;
}

std::optional<bool> Filesystem::trapped(Pid tgid, unsigned nr) {
  const auto group = hierarchy_.group_of(tgid);
  if (!group) return std::nullopt;
  // io_uring's own numbers follow what the filters enforce (io_uring_table.h).
  if (io_uring_calls().test(nr)) {
    auto allowed = hierarchy_.allowed(*group);
    if (allowed && enforced(allowed.value()).test(nr)) return true;
  } else if (hierarchy_.check(*group, nr)) {
    return true;
  }
  std::uint64_t count;
  {
    std::lock_guard lock(denials_mu_);
    count = ++denials_[*group][nr];
  }
  if (options_.log_denials && std::has_single_bit(count)) {
    const auto path = hierarchy_.path(*group);
    log_.notice("denied: process {} in {} called {} ({}); {} denial(s) of it there", tgid,
                path ? path.value() : "?", nr, syscall_table::name(nr).value_or("unnamed"), count);
  }
  return false;
}

void Filesystem::killed(Pid tgid, GroupId group, std::string_view) {
  std::lock_guard lock(denials_mu_);
  auto& list = killed_[group];
  list.push_back(tgid);
  constexpr std::size_t kKept = 32;  // the newest: a bounded report
  if (list.size() > kKept) list.erase(list.begin());
}

void Filesystem::exited(Pid pid) {
  {
    std::lock_guard lock(forks_mu_);
    parent_of_.erase(pid);
    start_times_.erase(pid);
  }
  auto group = hierarchy_.group_of(pid);
  if (!group) return;
  const std::array<GroupId, 1> chain{*group};
  const auto before = populated_chain(chain);
  hierarchy_.detach(pid);
  events_changed(chain, before);
}

Status Filesystem::move_process(Handle& h, std::string_view data, const Caller& writer) {
  BOOST_OUTCOME_TRY(written, grammar::parse_pid(data));
  const auto home = group_of_writer(writer);  // after every fork before the request
  BOOST_OUTCOME_TRY(check_move(home, h.group, std::nullopt));
  BOOST_OUTCOME_TRY(target, enforcement_.identify(written, writer.pid));
  std::lock_guard wlock(write_mu_);
  BOOST_OUTCOME_TRY(allowed, hierarchy_.allowed(h.group));
  // A stale entry under the target's number (its process gone) leaves first.
  if (hierarchy_.group_of(target.tgid) && !enforcement_.alive(target.tgid)) exited(target.tgid);
  const auto member_of = hierarchy_.group_of(target.tgid);
  const GroupId from = member_of.value_or(kRootGroup);
  BOOST_OUTCOME_TRY(check_move(home, h.group, member_of));
  BOOST_OUTCOME_TRY(may_move(h, target, from));
  if (from == h.group && hierarchy_.group_of(target.tgid)) return outcome::success();
  const std::array<GroupId, 2> chains{from, h.group};
  std::vector<std::pair<GroupId, bool>> before;
  {
    // Forks of the target are held back from the filter's injection to the
    // membership commit: a child forked after the filter went in joins
    // h.group, one from before stays outside (the enforcer excludes it).
    auto paused = enforcement_.pause_events();
    BOOST_OUTCOME_TRY(enforcement_.attach(target.tgid, target.start_time, h.group, allowed, writer.pid));
    before = populated_chain(chains);
    BOOST_OUTCOME_TRY(hierarchy_.attach(h.group, target.tgid));
  }
  enforcement_.barrier();  // routed calls are now decided by the new group
  {
    std::lock_guard lock(forks_mu_);
    start_times_[target.tgid] = target.start_time;
  }
  events_changed(chains, before);
  return persist();
}

Status Filesystem::may_move(const Handle& h, const Process& target, GroupId from) {
  const Caller& who = h.opener;
  if (who.uid == 0) return outcome::success();
  // cgroup v1's rule for moving another user's process.
  if (who.uid != target.uid && who.uid != target.suid)
    return make_error(Errc::access, fmt::format("process {} belongs to another user", target.tgid));
  // cgroup v2 delegation: the writer needs write access to cgroup.procs of
  // the common ancestor of the source and destination groups.
  std::set<GroupId> source_chain;
  for (GroupId g = from; g != kNoGroup;) {
    source_chain.insert(g);
    BOOST_OUTCOME_TRY(info, hierarchy_.info(g));
    g = info.parent;
  }
  GroupId common = h.group;
  while (!source_chain.contains(common)) {
    BOOST_OUTCOME_TRY(info, hierarchy_.info(common));
    common = info.parent;
  }
  std::shared_lock lock(meta_mu_);
  auto common_meta = meta_.find(common);
  if (common_meta == meta_.end()) return make_error(Errc::not_found, "the group was removed");
  const Meta& m = common_meta->second.files[index_of(FileKind::procs)];
  const mode_t bit = who.uid == m.uid ? S_IWUSR : who.gid == m.gid ? S_IWGRP : S_IWOTH;
  if ((m.mode & bit) == 0)
    return make_error(Errc::access, "no write access to cgroup.procs of the common ancestor group");
  return outcome::success();
}

void Filesystem::prune_exited(GroupId group) {
  auto members = hierarchy_.members(group);
  if (!members) return;
  for (Pid pid : members.value()) {
    if (enforcement_.alive(pid)) continue;
    const std::array<GroupId, 1> chain{group};
    const auto before = populated_chain(chain);
    hierarchy_.detach(pid);
    events_changed(chain, before);
  }
}

std::vector<std::pair<GroupId, bool>> Filesystem::populated_chain(std::span<const GroupId> groups) const {
  std::vector<std::pair<GroupId, bool>> out;
  for (GroupId g : groups) {
    while (g != kNoGroup && std::none_of(out.begin(), out.end(), [g](const auto& p) { return p.first == g; })) {
      auto info = hierarchy_.info(g);
      if (!info) break;
      auto populated = hierarchy_.populated(g);
      out.emplace_back(g, populated && populated.value());
      g = info.value().parent;
    }
  }
  return out;
}

void Filesystem::events_changed(std::span<const GroupId> chains,
                                const std::vector<std::pair<GroupId, bool>>& before) {
  std::vector<GroupId> changed;
  for (const auto& [g, was] : populated_chain(chains)) {
    auto it = std::find_if(before.begin(), before.end(), [g](const auto& p) { return p.first == g; });
    if (it == before.end() || it->second != was) changed.push_back(g);
  }
  if (changed.empty()) return;
  {
    std::unique_lock lock(meta_mu_);
    for (GroupId g : changed)
      if (auto it = meta_.find(g); it != meta_.end()) {
        ++it->second.events_generation;
        it->second.files[index_of(FileKind::events)].mtime = now();
      }
  }
  std::vector<std::unique_ptr<PollWaiter>> wake;
  {
    std::lock_guard lock(handles_mu_);
    for (auto& [id, h] : handles_)
      if (h->kind == FileKind::events && h->waiter &&
          std::find(changed.begin(), changed.end(), h->group) != changed.end())
        wake.push_back(std::move(h->waiter));
  }
  // Outside our locks: a waiter may be notified from any thread (poll_waiter.h).
  for (auto& waiter : wake) waiter->notify();
}

Result<unsigned> Filesystem::poll(std::uint64_t id, std::unique_ptr<PollWaiter> waiter) {
  auto h = handle(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  unsigned mask = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
  if (h->kind != FileKind::events) return mask;
  std::uint64_t generation;
  {
    std::shared_lock lock(meta_mu_);
    auto it = meta_.find(h->group);
    generation = it == meta_.end() ? h->seen_generation + 1 : it->second.events_generation;
  }
  std::uint64_t seen;
  {
    std::lock_guard lock(h->mu);
    seen = h->seen_generation;
  }
  std::unique_ptr<PollWaiter> replaced;  // released outside the lock
  std::lock_guard lock(handles_mu_);
  replaced = std::exchange(h->waiter, std::move(waiter));
  if (generation != seen) mask |= POLLPRI | POLLERR;
  return mask;
}


State Filesystem::capture() const {
  State state;
  std::shared_lock mlock(meta_mu_);
  std::lock_guard flock(const_cast<std::mutex&>(forks_mu_));
  for (const auto& g : hierarchy_.snapshot()) {
    auto path = hierarchy_.path(g.id);
    auto meta = meta_.find(g.id);
    if (!path || meta == meta_.end()) continue;
    GroupRecord r{.path = path.value(), .allowed = g.allowed, .max_depth = g.max_depth,
                  .max_descendants = g.max_descendants,
                  .dir = {meta->second.dir.mode, meta->second.dir.uid, meta->second.dir.gid}, .files = {}};
    for (std::size_t i = 0; i < r.files.size(); ++i)
      r.files[i] = {meta->second.files[i].mode, meta->second.files[i].uid, meta->second.files[i].gid};
    state.groups.push_back(std::move(r));
    // Members moved by a write; children that joined by forking are not
    // saved (their filters stay in place, they are not listed after a restart).
    if (auto members = hierarchy_.members(g.id))
      for (Pid pid : members.value())
        if (auto t = start_times_.find(pid); t != start_times_.end())
          state.members.push_back({pid, t->second, path.value()});
  }
  return state;
}

Status Filesystem::persist() {
  if (options_.state_path.empty()) return outcome::success();
  auto saved = save(options_.state_path, capture());
  if (!saved) {
    log_.error("saving the state failed: {}", saved.error().message);
    return make_error(Errc::io, saved.error().message);
  }
  return outcome::success();
}

Status Filesystem::restore(const State& state) {
  // decode() has checked the model's rules; limits go in last, since a
  // limit may have been lowered below what already existed.
  std::lock_guard wlock(write_mu_);
  std::unordered_map<std::string, GroupId> ids{{"/", kRootGroup}};
  for (const auto& r : state.groups) {
    GroupId id = kRootGroup;
    if (r.path != "/") {
      const auto slash = r.path.rfind('/');
      const GroupId parent = ids.at(slash == 0 ? std::string("/") : r.path.substr(0, slash));
      BOOST_OUTCOME_TRY(created, hierarchy_.create(parent, r.path.substr(slash + 1)));
      id = created;
      BOOST_OUTCOME_TRY(narrowed, hierarchy_.allowed(parent));
      narrowed.subtract(r.allowed);
      if (!narrowed.empty()) {
        BOOST_OUTCOME_TRY(hierarchy_.deny(id, narrowed));
      }
    }
    ids[r.path] = id;
    std::unique_lock lock(meta_mu_);
    auto& gm = meta_[id];
    const auto t = now();
    gm.dir = {r.dir.mode, r.dir.uid, r.dir.gid, t, t};
    for (std::size_t i = 0; i < gm.files.size(); ++i) gm.files[i] = {r.files[i].mode, r.files[i].uid, r.files[i].gid, t, t};
  }
  for (const auto& r : state.groups) {
    BOOST_OUTCOME_TRY(hierarchy_.set_max_depth(ids.at(r.path), r.max_depth));
    BOOST_OUTCOME_TRY(hierarchy_.set_max_descendants(ids.at(r.path), r.max_descendants));
  }
  for (const auto& m : state.members) {
    // Re-adopted only if the pid still names the same process; its filters
    // never went away.
    BOOST_OUTCOME_TRY(allowed, hierarchy_.allowed(ids.at(m.path)));
    if (!enforcement_.adopt(m.pid, m.start_time, allowed)) continue;
    BOOST_OUTCOME_TRY(hierarchy_.attach(ids.at(m.path), m.pid));
    std::lock_guard lock(forks_mu_);
    start_times_[m.pid] = m.start_time;
  }
  return outcome::success();
}

Result<std::uint64_t> Filesystem::opendir(Ino ino) {
  const auto ref = decode_inode(ino);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  BOOST_OUTCOME_TRY(info, hierarchy_.info(ref.group));
  BOOST_OUTCOME_TRY(children, hierarchy_.children(ref.group));
  auto h = std::make_shared<Handle>();
  h->ino = ino;
  h->group = ref.group;
  h->kind = FileKind::dir;
  h->flags = O_RDONLY;
  h->entries.push_back({".", ino, S_IFDIR});
  h->entries.push_back({"..", info.parent == kNoGroup ? ino : inode_of(info.parent, FileKind::dir), S_IFDIR});
  for (const auto& f : kControlFiles)
    if (ref.group != kRootGroup || f.in_root) h->entries.push_back({std::string(f.name), inode_of(ref.group, f.kind), S_IFREG});
  for (const auto& c : children) h->entries.push_back({c.name, inode_of(c.id, FileKind::dir), S_IFDIR});
  std::lock_guard lock(handles_mu_);
  const auto id = next_handle_++;
  handles_.emplace(id, std::move(h));
  return id;
}

Result<std::vector<DirEntry>> Filesystem::readdir(std::uint64_t id, off_t offset) const {
  auto h = handle(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  if (offset < 0 || static_cast<std::size_t>(offset) >= h->entries.size()) return std::vector<DirEntry>{};
  return std::vector<DirEntry>(h->entries.begin() + offset, h->entries.end());
}

void Filesystem::release(std::uint64_t id) {
  std::shared_ptr<Handle> released;  // its waiter is released outside the lock
  std::lock_guard lock(handles_mu_);
  auto it = handles_.find(id);
  if (it == handles_.end()) return;
  released = std::move(it->second);
  handles_.erase(it);
}

}  // namespace syscg::fs
