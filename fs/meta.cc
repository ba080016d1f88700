#include "fs/meta.h"

#include <fmt/format.h>

namespace syscg::fs {
namespace {

timespec now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);  // cannot fail with a valid clock and pointer
  return ts;
}

}  // namespace

// The meta of `ino` in `groups` (const or not), or null: a removed group, a
// file the root lacks.
template <class Groups>
auto* meta_of(Groups& groups, Ino ino) {
  const auto ref = decode_inode(ino);
  decltype(&groups.begin()->second.dir) none = nullptr;
  auto it = groups.find(ref.group);
  if (it == groups.end()) return none;
  if (ref.kind == FileKind::dir) return &it->second.dir;
  if (ref.group == kRootGroup && !kControlFiles[index_of(ref.kind)].in_root) return none;
  return &it->second.files[index_of(ref.kind)];
}

MetaTable::MetaTable(const Caller& owner) {
  const auto t = now();
  GroupMeta root{.dir = {0755, owner.uid, owner.gid, t, t}, .files = {}};
  for (std::size_t i = 0; i < kControlFiles.size(); ++i) {
    const auto& f = kControlFiles[i];
    root.files[i] = {is_policy_file(f.kind) ? mode_t{0444} : f.mode, owner.uid, owner.gid, t, t};
  }
  WriterLock lock(mu_);
  groups_.emplace(kRootGroup, root);
}

void MetaTable::add(GroupId group, mode_t mode, const Caller& creator) {
  const auto t = now();
  GroupMeta gm{.dir = {mode & 07777, creator.uid, creator.gid, t, t}, .files = {}};
  for (std::size_t i = 0; i < kControlFiles.size(); ++i)
    gm.files[i] = {kControlFiles[i].mode, creator.uid, creator.gid, t, t};
  WriterLock lock(mu_);
  groups_.emplace(group, gm);
}

void MetaTable::restore(GroupId group, const OwnerMode& dir, const std::array<OwnerMode, kStateFiles>& files) {
  const auto t = now();
  WriterLock lock(mu_);
  auto& gm = groups_[group];
  gm.dir = {dir.mode, dir.uid, dir.gid, t, t};
  for (std::size_t i = 0; i < gm.files.size(); ++i) gm.files[i] = {files[i].mode, files[i].uid, files[i].gid, t, t};
}

void MetaTable::erase(GroupId group) {
  WriterLock lock(mu_);
  groups_.erase(group);
}

Result<struct stat> MetaTable::stat(Ino ino, std::size_t nr_children) const {
  ReaderLock lock(mu_);
  const auto* m = meta_of(groups_, ino);
  if (!m) return make_error(Errc::not_found, fmt::format("no inode {}", ino));
  struct stat st {};
  st.st_ino = ino;
  st.st_blksize = 4096;
  if (decode_inode(ino).kind == FileKind::dir) {
    st.st_mode = S_IFDIR | m->mode;
    st.st_nlink = static_cast<nlink_t>(2 + nr_children);
  } else {
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

Status MetaTable::set(Ino ino, const struct stat& in, int to_set) {
  WriterLock lock(mu_);
  auto* m = meta_of(groups_, ino);
  if (!m) return make_error(Errc::not_found, fmt::format("no inode {}", ino));
  // default_permissions: the kernel has already checked ownership and
  // CAP_CHOWN / CAP_FOWNER (setattr_prepare) before this request.
  if (to_set & set_attr::mode) m->mode = in.st_mode & 07777;
  if (to_set & set_attr::uid) m->uid = in.st_uid;
  if (to_set & set_attr::gid) m->gid = in.st_gid;
  if (to_set & set_attr::mtime) m->mtime = in.st_mtim;
  if (to_set & set_attr::mtime_now) m->mtime = now();
  m->ctime = now();
  return outcome::success();
}

void MetaTable::touch(GroupId group, FileKind kind) {
  WriterLock lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  Meta& m = kind == FileKind::dir ? it->second.dir : it->second.files[index_of(kind)];
  m.mtime = m.ctime = now();
}

std::optional<OwnerMode> MetaTable::owner_mode(GroupId group, FileKind kind) const {
  ReaderLock lock(mu_);
  const auto* m = meta_of(groups_, inode_of(group, kind));
  if (!m) return std::nullopt;
  return OwnerMode{m->mode, m->uid, m->gid};
}

bool MetaTable::save(GroupId group, GroupRecord& record) const {
  ReaderLock lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return false;
  const auto& gm = it->second;
  record.dir = {gm.dir.mode, gm.dir.uid, gm.dir.gid};
  for (std::size_t i = 0; i < record.files.size(); ++i)
    record.files[i] = {gm.files[i].mode, gm.files[i].uid, gm.files[i].gid};
  return true;
}

std::optional<std::uint64_t> MetaTable::events_generation(GroupId group) const {
  ReaderLock lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return std::nullopt;
  return it->second.events_generation;
}

void MetaTable::events_changed(std::span<const GroupId> groups) {
  const auto t = now();
  WriterLock lock(mu_);
  for (GroupId g : groups)
    if (auto it = groups_.find(g); it != groups_.end()) {
      ++it->second.events_generation;
      it->second.files[index_of(FileKind::events)].mtime = t;
    }
}

}  // namespace syscg::fs
