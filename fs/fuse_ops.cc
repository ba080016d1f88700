#include "fs/fuse_ops.h"

#include "fs/filesystem.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
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

// One request's one reply. A do_x answers success with a typed reply
// through sent() as its last step, or returns an errno (0 for operations
// whose success is an empty reply) that serve() sends.
class Reply {
 public:
  explicit Reply(fuse_req_t req) : req_(req) {}
  fuse_req_t req() const { return req_; }
  // Records that the caller has just answered with a fuse_reply_*; returns
  // libfuse's result of it.
  int sent(int rc) {
    sent_ = true;
    return rc;
  }
  bool was_sent() const { return sent_; }

 private:
  fuse_req_t req_;
  bool sent_ = false;
};

// The one place that turns exceptions into errnos: nothing thrown in a
// do_x reaches libfuse's C frames (or std::terminate). Exactly one reply:
// do_x's own, or the errno.
template <class Body>
void serve(fuse_req_t req, Body&& body) noexcept {
  Reply reply(req);
  int errnum = EIO;
  try {
    errnum = body(reply);
  } catch (const std::bad_alloc&) {
    errnum = ENOMEM;
  } catch (const std::exception&) {
    errnum = EIO;
  } catch (...) {
    errnum = EIO;
  }
  if (!reply.was_sent()) fuse_reply_err(req, errnum);
}

int status(const Status& s) { return s ? 0 : err(s.error()); }

int reply_entry(Reply& reply, const Result<Entry>& r) {
  if (!r) return err(r.error());
  fuse_entry_param e{};
  e.ino = r.value().ino;
  e.attr = r.value().attr;
  e.attr_timeout = kAttrTimeout;
  e.entry_timeout = kEntryTimeout;
  reply.sent(fuse_reply_entry(reply.req(), &e));
  return 0;
}

int reply_attr(Reply& reply, const Result<struct stat>& r) {
  if (!r) return err(r.error());
  reply.sent(fuse_reply_attr(reply.req(), &r.value(), kAttrTimeout));
  return 0;
}

// An open handle the opener no longer waits for (interrupted) is released.
// The request is freed by the reply: the filesystem is looked up before.
int reply_open(Reply& reply, fuse_file_info* fi) {
  Filesystem& fs = fs_of(reply.req());
  if (reply.sent(fuse_reply_open(reply.req(), fi)) == -ENOENT) fs.release(fi->fh);
  return 0;
}

int do_open(Reply& reply, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = fs_of(reply.req()).open(ino, fi->flags, caller_of(reply.req()));
  if (!r) return err(r.error());
  fi->fh = r.value();
  fi->direct_io = 1;  // every read and write reaches us, uncached, like kernfs
  fi->keep_cache = 0;
  return reply_open(reply, fi);
}

int do_read(Reply& reply, size_t size, off_t off, fuse_file_info* fi) {
  auto r = fs_of(reply.req()).read(fi->fh, off, size);
  if (!r) return err(r.error());
  reply.sent(fuse_reply_buf(reply.req(), r.value().data(), r.value().size()));
  return 0;
}

int do_write(Reply& reply, const char* buf, size_t size, fuse_file_info* fi) {
  auto r = fs_of(reply.req()).write(fi->fh, std::string_view(buf, size), caller_of(reply.req()));
  if (!r) return err(r.error());
  reply.sent(fuse_reply_write(reply.req(), r.value()));
  return 0;
}

int do_opendir(Reply& reply, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = fs_of(reply.req()).opendir(ino);
  if (!r) return err(r.error());
  fi->fh = r.value();
  return reply_open(reply, fi);
}

int do_readdir(Reply& reply, size_t size, off_t off, fuse_file_info* fi) {
  auto r = fs_of(reply.req()).readdir(fi->fh, off);
  if (!r) return err(r.error());
  std::string buf(size, '\0');
  std::size_t used = 0;
  off_t next = off;
  for (const auto& e : r.value()) {
    struct stat st {};
    st.st_ino = e.ino;
    st.st_mode = e.type;
    const std::size_t len = fuse_add_direntry(reply.req(), buf.data() + used, size - used, e.name.c_str(), &st, ++next);
    if (len > size - used) break;
    used += len;
  }
  reply.sent(fuse_reply_buf(reply.req(), buf.data(), used));
  return 0;
}

int do_statfs(Reply& reply) {
  struct statvfs st {};
  st.f_bsize = st.f_frsize = 4096;
  st.f_namemax = 255;
  reply.sent(fuse_reply_statfs(reply.req(), &st));
  return 0;
}

int do_poll(Reply& reply, fuse_file_info* fi, fuse_pollhandle* ph) {
  std::unique_ptr<PollWaiter> waiter;
  if (ph) {
    // Owned from here on, even if make_unique throws.
    std::unique_ptr<fuse_pollhandle, decltype(&fuse_pollhandle_destroy)> owned(ph, &fuse_pollhandle_destroy);
    waiter = std::make_unique<FusePollWaiter>(owned.release());
  }
  auto r = fs_of(reply.req()).poll(fi->fh, std::move(waiter));
  if (!r) return err(r.error());
  reply.sent(fuse_reply_poll(reply.req(), r.value()));
  return 0;
}

// The callbacks: one do_x each (or one Filesystem call), inside serve().

void op_init(void*, fuse_conn_info* conn) {
  // Control files are tiny; no writeback cache, no splice, no readdirplus.
  conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  serve(req, [&](Reply& r) { return reply_entry(r, fs_of(req).lookup(parent, name)); });
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  serve(req, [&](Reply& r) { return reply_attr(r, fs_of(req).getattr(ino)); });
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  serve(req, [&](Reply& r) { return reply_attr(r, fs_of(req).setattr(ino, *attr, to_set, caller_of(req))); });
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  serve(req, [&](Reply& r) { return reply_entry(r, fs_of(req).mkdir(parent, name, mode, caller_of(req))); });
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  serve(req, [&](Reply&) { return status(fs_of(req).rmdir(parent, name)); });
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
               unsigned int flags) {
  serve(req, [&](Reply&) { return status(fs_of(req).rename(parent, name, newparent, newname, flags)); });
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  serve(req, [&](Reply&) { return status(fs_of(req).unlink(parent, name)); });
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, dev_t) {
  serve(req, [&](Reply&) { return status(fs_of(req).create_file(parent, name)); });
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t, fuse_file_info*) {
  serve(req, [&](Reply&) { return status(fs_of(req).create_file(parent, name)); });
}

void op_symlink(fuse_req_t req, const char*, fuse_ino_t parent, const char* name) {
  serve(req, [&](Reply&) { return status(fs_of(req).create_file(parent, name)); });
}

void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t parent, const char* name) {
  serve(req, [&](Reply&) { return status(fs_of(req).create_file(parent, name)); });
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  serve(req, [&](Reply& r) { return do_open(r, ino, fi); });
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  serve(req, [&](Reply& r) { return do_read(r, size, off, fi); });
}

void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t, fuse_file_info* fi) {
  serve(req, [&](Reply& r) { return do_write(r, buf, size, fi); });
}

void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) {
  serve(req, [](Reply&) { return 0; });
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  serve(req, [&](Reply&) {
    fs_of(req).release(fi->fh);
    return 0;
  });
}

void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
  serve(req, [](Reply&) { return 0; });
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  serve(req, [&](Reply& r) { return do_opendir(r, ino, fi); });
}

void op_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  serve(req, [&](Reply& r) { return do_readdir(r, size, off, fi); });
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  serve(req, [&](Reply&) {
    fs_of(req).release(fi->fh);
    return 0;
  });
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  serve(req, [](Reply& r) { return do_statfs(r); });
}

void op_poll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph) {
  serve(req, [&](Reply& r) { return do_poll(r, fi, ph); });
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
