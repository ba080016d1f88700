#include "fs/fuse_ops.h"

#include "fs/filesystem.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/statvfs.h>
#include <type_traits>

namespace syscg::fs {
namespace {

static_assert(std::is_same_v<fuse_ino_t, Ino>);
static_assert(kRootInode == FUSE_ROOT_ID);
static_assert(set_attr::mode == FUSE_SET_ATTR_MODE && set_attr::uid == FUSE_SET_ATTR_UID &&
              set_attr::gid == FUSE_SET_ATTR_GID && set_attr::size == FUSE_SET_ATTR_SIZE &&
              set_attr::atime == FUSE_SET_ATTR_ATIME && set_attr::mtime == FUSE_SET_ATTR_MTIME &&
              set_attr::atime_now == FUSE_SET_ATTR_ATIME_NOW && set_attr::mtime_now == FUSE_SET_ATTR_MTIME_NOW);

// A poll(2) waiter over libfuse's handle. A poll notification waits for
// nothing (unlike the inval notifications libfuse warns about), so any
// thread may send it, the fork/exit thread included.
class FusePollWaiter final : public PollWaiter {
 public:
  explicit FusePollWaiter(fuse_pollhandle* ph) : ph_(ph) {}
  ~FusePollWaiter() override { fuse_pollhandle_destroy(ph_); }
  FusePollWaiter(const FusePollWaiter&) = delete;
  FusePollWaiter& operator=(const FusePollWaiter&) = delete;
  void notify() override { fuse_lowlevel_notify_poll(ph_); }

 private:
  fuse_pollhandle* ph_;
};

// Kernel caches for names and attributes. Short, like lxcfs: other writers
// change the tree, and every answer is cheap to recompute.
constexpr double kEntryTimeout = 1.0;
constexpr double kAttrTimeout = 1.0;

Filesystem& fs_of(fuse_req_t req) { return *static_cast<Filesystem*>(fuse_req_userdata(req)); }

Caller caller_of(fuse_req_t req) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  return Caller{ctx->uid, ctx->gid, ctx->pid};
}

int err(const Error& e) { return to_errno(e.code); }

void reply_entry(fuse_req_t req, const Result<Entry>& r) {
  if (!r) {
    fuse_reply_err(req, err(r.error()));
    return;
  }
  fuse_entry_param e{};
  e.ino = r.value().ino;
  e.attr = r.value().attr;
  e.attr_timeout = kAttrTimeout;
  e.entry_timeout = kEntryTimeout;
  fuse_reply_entry(req, &e);
}

void reply_status(fuse_req_t req, const Status& s) { fuse_reply_err(req, s ? 0 : err(s.error())); }

void op_init(void*, fuse_conn_info* conn) {
  // Control files are tiny; no writeback cache, no splice, no readdirplus.
  conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  reply_entry(req, fs_of(req).lookup(parent, name));
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  auto r = fs_of(req).getattr(ino);
  if (r) fuse_reply_attr(req, &r.value(), kAttrTimeout);
  else fuse_reply_err(req, err(r.error()));
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  auto r = fs_of(req).setattr(ino, *attr, to_set, caller_of(req));
  if (r) fuse_reply_attr(req, &r.value(), kAttrTimeout);
  else fuse_reply_err(req, err(r.error()));
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  reply_entry(req, fs_of(req).mkdir(parent, name, mode, caller_of(req)));
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  reply_status(req, fs_of(req).rmdir(parent, name));
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
               unsigned int flags) {
  reply_status(req, fs_of(req).rename(parent, name, newparent, newname, flags));
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  reply_status(req, fs_of(req).unlink(parent, name));
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, dev_t) {
  reply_status(req, fs_of(req).create_file(parent, name));
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info*) {
  reply_status(req, fs_of(req).create_file(parent, name));
}

void op_symlink(fuse_req_t req, const char*, fuse_ino_t parent, const char* name) {
  reply_status(req, fs_of(req).create_file(parent, name));
}

void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t parent, const char* name) {
  reply_status(req, fs_of(req).create_file(parent, name));
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = fs_of(req).open(ino, fi->flags, caller_of(req));
  if (!r) {
    fuse_reply_err(req, err(r.error()));
    return;
  }
  fi->fh = r.value();
  fi->direct_io = 1;  // every read and write reaches us, uncached, like kernfs
  fi->keep_cache = 0;
  if (fuse_reply_open(req, fi) == -ENOENT) fs_of(req).release(fi->fh);  // the opener was interrupted
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto r = fs_of(req).read(fi->fh, off, size);
  if (r) fuse_reply_buf(req, r.value().data(), r.value().size());
  else fuse_reply_err(req, err(r.error()));
}

void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t, fuse_file_info* fi) {
  auto r = fs_of(req).write(fi->fh, std::string_view(buf, size), caller_of(req));
  if (r) fuse_reply_write(req, r.value());
  else fuse_reply_err(req, err(r.error()));
}

void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  fs_of(req).release(fi->fh);
  fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = fs_of(req).opendir(ino);
  if (!r) {
    fuse_reply_err(req, err(r.error()));
    return;
  }
  fi->fh = r.value();
  if (fuse_reply_open(req, fi) == -ENOENT) fs_of(req).release(fi->fh);
}

void op_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto r = fs_of(req).readdir(fi->fh, off);
  if (!r) {
    fuse_reply_err(req, err(r.error()));
    return;
  }
  std::string buf(size, '\0');
  std::size_t used = 0;
  off_t next = off;
  for (const auto& e : r.value()) {
    struct stat st {};
    st.st_ino = e.ino;
    st.st_mode = e.type;
    const std::size_t len = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &st, ++next);
    if (len > size - used) break;
    used += len;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  fs_of(req).release(fi->fh);
  fuse_reply_err(req, 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs st {};
  st.f_bsize = st.f_frsize = 4096;
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

void op_poll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph) {
  std::unique_ptr<PollWaiter> waiter;
  if (ph) waiter = std::make_unique<FusePollWaiter>(ph);
  auto r = fs_of(req).poll(fi->fh, std::move(waiter));
  if (r) fuse_reply_poll(req, r.value());
  else fuse_reply_err(req, err(r.error()));
}

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.mkdir = op_mkdir;
  ops.rmdir = op_rmdir;
  ops.rename = op_rename;
  ops.unlink = op_unlink;
  ops.mknod = op_mknod;
  ops.create = op_create;
  ops.symlink = op_symlink;
  ops.link = op_link;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.releasedir = op_releasedir;
  ops.statfs = op_statfs;
  ops.poll = op_poll;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& fuse_operations() {
  static const fuse_lowlevel_ops ops = make_ops();
  return ops;
}

}  // namespace syscg::fs
