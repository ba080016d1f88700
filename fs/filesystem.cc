// The facade: namespace operations, open files and the listener, each a
// few calls into the parts (control.cc has the writes). Lock order: see
// filesystem.h.
#include "fs/filesystem.h"

#include "core/io_uring_table.h"
#include "core/warnings.h"
#include "fs/persist.h"
#include "fs/render.h"

#include <fmt/format.h>

#include <bit>
#include <cerrno>
#include <fcntl.h>

namespace syscg::fs {
namespace {

Error not_a_group_dir() { return make_error(Errc::not_dir, "a control file is not a directory"); }

}  // namespace

Filesystem::Filesystem(Hierarchy& hierarchy, Enforcement& enforcement, sys::Log& log, Options options)
    : hierarchy_(hierarchy),
      enforcement_(enforcement),
      log_(log),
      options_(std::move(options)),
      tree_(hierarchy),
      meta_(options_.owner),
      membership_(hierarchy, enforcement, [this](std::span<const GroupId> groups) { populated_changed(groups); }) {}

Filesystem::~Filesystem() = default;

void Filesystem::populated_changed(std::span<const GroupId> groups) {
  meta_.events_changed(groups);
  handles_.wake(groups);
}

Result<struct stat> Filesystem::getattr(Ino ino) const {
  std::size_t nr_children = 0;
  if (const auto ref = decode_inode(ino); ref.kind == FileKind::dir) {
    BOOST_OUTCOME_TRY(info, hierarchy_.info(ref.group));
    nr_children = info.nr_children;
  }
  return meta_.stat(ino, nr_children);
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
  BOOST_OUTCOME_TRY(st, getattr(ino));
  return Entry{ino, st};
}

Result<struct stat> Filesystem::setattr(Ino ino, const struct stat& in, int to_set, const Caller&) {
  Journal::Ticket saved;
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    BOOST_OUTCOME_TRY(meta_.set(ino, in, to_set));
    if (options_.journal && (to_set & (set_attr::mode | set_attr::uid | set_attr::gid))) {
      const auto ref = decode_inode(ino);
      if (ref.kind == FileKind::dir) {
        BOOST_OUTCOME_TRY(t, save_group(ref.group));
        saved = t;
      } else {
        const auto meta = meta_.owner_mode(ref.group, ref.kind);
        const auto key = keys_.of.find(ref.group);
        if (!meta || key == keys_.of.end()) return make_error(Errc::not_found, "the group was removed");
        saved = save({PutFile{FileRow{key->second, std::string(kControlFiles[index_of(ref.kind)].name), *meta}}});
      }
    }
  }
  BOOST_OUTCOME_TRY(durable(saved));
  return getattr(ino);
}

Result<Entry> Filesystem::mkdir(Ino parent, std::string_view name, mode_t mode, const Caller& caller) {
  const auto ref = decode_inode(parent);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  Journal::Ticket saved;
  Entry entry{};
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    if (find_control(name)) return make_error(Errc::exists, fmt::format("'{}' is a control file", name));
    BOOST_OUTCOME_TRY(id, hierarchy_.create(ref.group, name));
    meta_.add(id, mode, caller);
    meta_.touch(ref.group, FileKind::dir);
    if (options_.journal) {
      keys_.of[id] = keys_.next++;
      BOOST_OUTCOME_TRY(rows, new_group_rows(hierarchy_, meta_, keys_, id));
      saved = save(std::move(rows));
    }
    BOOST_OUTCOME_TRY(st, getattr(id));
    entry = Entry{id, st};
  }
  BOOST_OUTCOME_TRY(durable(saved));
  return entry;
}

Status Filesystem::rmdir(Ino parent, std::string_view name) {
  const auto ref = decode_inode(parent);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  Journal::Ticket saved;
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    if (find_control(name)) return not_a_group_dir();
    BOOST_OUTCOME_TRY(id, hierarchy_.lookup(ref.group, name));
    membership_.prune_exited(id);  // exited members do not keep a group busy
    BOOST_OUTCOME_TRY(hierarchy_.remove(id));
    meta_.erase(id);
    denials_.erase(id);
    meta_.touch(ref.group, FileKind::dir);
    if (const auto key = keys_.of.find(id); key != keys_.of.end()) {
      saved = save({DropGroup{key->second}});  // with the rows of members that exited in it
      keys_.of.erase(key);
    }
  }
  return durable(saved);
}

Status Filesystem::rename(Ino parent, std::string_view name, Ino new_parent, std::string_view new_name,
                          unsigned flags) {
  if (flags & ~unsigned{RENAME_NOREPLACE}) return make_error(Errc::invalid, "only RENAME_NOREPLACE is supported");
  const auto from = decode_inode(parent), to = decode_inode(new_parent);
  if (from.kind != FileKind::dir || to.kind != FileKind::dir) return not_a_group_dir();
  Journal::Ticket saved;
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    if (find_control(name)) return make_error(Errc::permission, "control files cannot be renamed");
    BOOST_OUTCOME_TRY(id, hierarchy_.lookup(from.group, name));
    // A group's place in the tree decides its policy; moving it under
    // another parent would change it silently, so only renames in place are
    // allowed.
    if (from.group != to.group) return make_error(Errc::permission, "a group can be renamed only within its parent");
    BOOST_OUTCOME_TRY(hierarchy_.rename(id, new_name));
    meta_.touch(from.group, FileKind::dir);
    BOOST_OUTCOME_TRY(t, save_group(id));  // one row: the key stays, the name changes
    saved = t;
  }
  return durable(saved);
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

Result<std::uint64_t> Filesystem::open(Ino ino, int flags, const Caller& caller) {
  BOOST_OUTCOME_TRY(getattr(ino));
  const auto ref = decode_inode(ino);
  BOOST_OUTCOME_TRY(check_open(ref, flags));
  auto h = std::make_shared<Handle>(ino, ref.kind, flags, caller);
  // A concurrent rmdir may have removed the group since getattr above.
  const auto generation = meta_.events_generation(ref.group);
  if (!generation) return make_error(Errc::not_found, "the group was removed");
  {
    MutexLock lock(h->mu);  // not shared yet; for the analysis
    h->seen_generation = *generation;
  }
  return handles_.add(std::move(h));
}

Result<Snapshot> Filesystem::snapshot(GroupId group, FileKind kind) {
  const auto generation = meta_.events_generation(group);
  if (!generation) return make_error(Errc::not_found, "the group was removed");
  BOOST_OUTCOME_TRY(text, render(group, kind));
  return Snapshot{std::move(text), *generation};
}

Result<std::string> Filesystem::render(GroupId group, FileKind kind) {
  if (kind == FileKind::procs || kind == FileKind::stat || kind == FileKind::stricter || kind == FileKind::warnings)
    membership_.prune_exited(group);
  BOOST_OUTCOME_TRY(info, hierarchy_.info(group));
  switch (kind) {
    case FileKind::syscalls_allow: return grammar::format_syscall_list(info.allowed);
    case FileKind::syscalls_deny: return grammar::format_deny_list(~info.allowed, info.errnos);
    case FileKind::max_depth: return grammar::format_limit(info.max_depth);
    case FileKind::max_descendants: return grammar::format_limit(info.max_descendants);
    case FileKind::stat: return render::stat(info);
    case FileKind::events: {
      BOOST_OUTCOME_TRY(populated, hierarchy_.populated(group));
      return render::events(populated);
    }
    case FileKind::procs: {
      BOOST_OUTCOME_TRY(members, hierarchy_.members(group));
      return render::procs(members);
    }
    case FileKind::stricter: {
      BOOST_OUTCOME_TRY(members, hierarchy_.members(group));
      std::vector<render::MemberLosses> losses;
      for (Pid p : members) losses.push_back({p, enforcement_.stricter(p, info.allowed)});
      return render::stricter(losses);
    }
    case FileKind::denied: return render::denied(denials_.counts(group));
    case FileKind::mode: return grammar::format_mode(info.complain);
    case FileKind::bpf: return render::bpf(info);
    case FileKind::oci: return render::oci(info);
    case FileKind::systemd: return render::systemd(info);
    case FileKind::warnings: {
      warnings::Inputs in{.allowed = info.allowed, .stricter = {}, .ptrace_capable = {}, .killed = {}};
      if (auto members = hierarchy_.members(group))
        for (Pid p : members.value()) {
          if (!enforcement_.stricter(p, info.allowed).empty()) in.stricter.push_back(p);
          if (enforcement_.may_subvert(p)) in.ptrace_capable.push_back(p);
        }
      in.killed = denials_.killed_in(group);
      return warnings::render(in);
    }
    case FileKind::dir: break;
  }
  return make_error(Errc::is_dir, "a group directory");
}

Result<std::string> Filesystem::read(std::uint64_t id, off_t offset, std::size_t size) {
  auto h = handles_.find(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  return read_snapshot(*h, offset, size, [&] { return snapshot(h->group, h->kind); });
}

Result<unsigned> Filesystem::poll(std::uint64_t id, std::unique_ptr<PollWaiter> waiter) {
  auto h = handles_.find(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  if (h->kind != FileKind::events) return kReady;
  // Kept before the generation is read: a change after this is notified.
  handles_.keep_waiter(id, std::move(waiter));
  return poll_mask(*h, meta_.events_generation(h->group));
}

Result<std::uint64_t> Filesystem::opendir(Ino ino) {
  const auto ref = decode_inode(ino);
  if (ref.kind != FileKind::dir) return not_a_group_dir();
  BOOST_OUTCOME_TRY(info, hierarchy_.info(ref.group));
  BOOST_OUTCOME_TRY(children, hierarchy_.children(ref.group));
  auto h = std::make_shared<Handle>(ino, FileKind::dir, O_RDONLY, Caller{});
  h->entries.push_back({".", ino, S_IFDIR});
  h->entries.push_back({"..", info.parent == kNoGroup ? ino : inode_of(info.parent, FileKind::dir), S_IFDIR});
  for (const auto& f : kControlFiles)
    if (ref.group != kRootGroup || f.in_root)
      h->entries.push_back({std::string(f.name), inode_of(ref.group, f.kind), S_IFREG});
  for (const auto& c : children) h->entries.push_back({c.name, inode_of(c.id, FileKind::dir), S_IFDIR});
  return handles_.add(std::move(h));
}

Result<std::vector<DirEntry>> Filesystem::readdir(std::uint64_t id, off_t offset) const {
  auto h = handles_.find(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  if (offset < 0 || static_cast<std::size_t>(offset) >= h->entries.size()) return std::vector<DirEntry>{};
  return std::vector<DirEntry>(h->entries.begin() + offset, h->entries.end());
}

void Filesystem::release(std::uint64_t id) { handles_.release(id); }

bool Filesystem::forked(Pid parent, Pid child) { return membership_.forked(parent, child); }

void Filesystem::exited(Pid pid) { membership_.exited(pid); }

std::optional<int> Filesystem::trapped(Pid tgid, unsigned nr) {
  const auto group = hierarchy_.group_of(tgid);
  if (!group) return std::nullopt;
  const auto policy = hierarchy_.call_policy(*group, nr);
  if (!policy) return EPERM;  // the group went away meanwhile (it had no members then)
  // io_uring's own numbers follow what the filters enforce (io_uring_table.h).
  if (io_uring_calls().test(nr) ? enforced(policy->allowed).test(nr) : policy->allowed.test(nr)) return 0;
  const auto count = denials_.count(*group, nr);
  if (options_.log_denials && std::has_single_bit(count)) {
    const auto path = hierarchy_.path(*group);
    log_.notice("{}", render::denial_line(tgid, path ? path.value() : "?", nr, count, policy->complain));
  }
  // Complain mode: counted and logged above, and run.
  return policy->complain ? 0 : policy->err;
}

void Filesystem::killed(Pid tgid, GroupId group, std::string_view) { denials_.killed(group, tgid); }

Status Filesystem::restore(const KeyedState& state) {
  // to_state() has checked the model's rules.
  Journal::Ticket saved;
  {
    MutexLock wlock(write_mu_);
    if (state.state.groups.empty()) {
      // A new database: the root's rows.
      saved = save(whole_state(hierarchy_, meta_, keys_, membership_.start_times()));
    } else {
      BOOST_OUTCOME_TRY(dropped, fs::restore(state, hierarchy_, meta_, membership_, keys_));
      std::vector<RowOp> ops;
      for (Pid pid : dropped) ops.emplace_back(DropMember{pid});
      if (!ops.empty()) saved = save(std::move(ops));
    }
  }
  return durable(saved);
}

Journal::Ticket Filesystem::save(std::vector<RowOp> ops) {
  if (!options_.journal) return nullptr;
  if (auto t = options_.journal->enqueue(std::move(ops))) return *t;
  // The store missed a commit: it gets the whole model, this change included.
  return options_.journal->enqueue(whole_state(hierarchy_, meta_, keys_, membership_.start_times())).value();
}

Result<Journal::Ticket> Filesystem::save_group(GroupId group) {
  if (!options_.journal) return Journal::Ticket{};
  BOOST_OUTCOME_TRY(row, group_row(hierarchy_, meta_, keys_, group));
  return save({PutGroup{std::move(row)}});
}

Status Filesystem::durable(const Journal::Ticket& ticket) {
  if (!ticket) return outcome::success();
  auto saved = options_.journal->wait(ticket);
  if (!saved) {
    log_.error("saving the state failed: {}", saved.error().message);
    Error e = saved.error();
    e.code = Errc::io;
    return e;
  }
  return outcome::success();
}

}  // namespace syscg::fs
