// The shim forwards every method to the default VFS's file; it only watches
// the WAL file's writes (the range written since its last sync) and acts at
// the chosen sync. Its state lives in the VFS object registered once
// (SQLite's registry is per process by nature); it is never registered
// unless the test variable is set.
#include "fs/cut_vfs.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstring>
#include <new>
#include <unistd.h>

namespace syscg::fs {
namespace {

struct CutVfs {
  sqlite3_vfs vfs;
  sqlite3_vfs* real;
  std::atomic<int> syncs_left;
};

struct CutFile {
  sqlite3_file base;
  sqlite3_file* real;  // follows this struct in the same allocation
  bool wal;
  sqlite3_int64 lo, hi;  // written since the last sync; lo > hi: nothing
  CutVfs* vfs;
};

CutFile* cut(sqlite3_file* f) { return reinterpret_cast<CutFile*>(f); }
sqlite3_file* real(sqlite3_file* f) { return cut(f)->real; }

int x_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real(f)->pMethods->xRead(real(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  auto* c = cut(f);
  c->lo = std::min(c->lo, off);
  c->hi = std::max(c->hi, off + n);
  return real(f)->pMethods->xWrite(real(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return real(f)->pMethods->xTruncate(real(f), size); }
int x_sync(sqlite3_file* f, int flags) {
  auto* c = cut(f);
  if (c->wal && c->vfs->syncs_left.fetch_sub(1) == 1) {
    if (c->lo < c->hi) (void)real(f)->pMethods->xTruncate(real(f), c->lo + (c->hi - c->lo) / 2);
    ::kill(::getpid(), SIGKILL);
  }
  c->lo = INT64_MAX;
  c->hi = 0;
  return real(f)->pMethods->xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); }
int x_lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
int x_check_reserved_lock(sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) { return real(f)->pMethods->xFileControl(real(f), op, arg); }
int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int x_device_characteristics(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int x_shm_map(sqlite3_file* f, int i, int sz, int extend, void volatile** p) {
  return real(f)->pMethods->xShmMap(real(f), i, sz, extend, p);
}
int x_shm_lock(sqlite3_file* f, int off, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), off, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) {
  return real(f)->pMethods->xFetch(real(f), off, n, p);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return real(f)->pMethods->xUnfetch(real(f), off, p); }

const sqlite3_io_methods kMethods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* self = reinterpret_cast<CutVfs*>(vfs);
  auto* c = cut(f);
  c->real = reinterpret_cast<sqlite3_file*>(c + 1);
  c->wal = (flags & SQLITE_OPEN_WAL) != 0;
  c->lo = INT64_MAX;
  c->hi = 0;
  c->vfs = self;
  const int rc = self->real->xOpen(self->real, name, c->real, flags, out_flags);
  // Without methods SQLite does not call xClose; with them every call goes
  // through the shim.
  c->base.pMethods = c->real->pMethods ? &kMethods : nullptr;
  return rc;
}

}  // namespace

Result<int> parse_cut_at_sync(std::string_view text) {
  int n = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || text.front() == '-' || ec != std::errc{} || p != end || n < 1 || n > 1'000'000)
    return make_error(Errc::invalid, fmt::format("{}='{}': not a number in 1..1000000", kCutAtSyncVariable, text));
  return n;
}

Result<const char*> register_cut_vfs(int nth_sync) {
  static CutVfs shim{};  // registered with SQLite for the process's life
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (!base) return make_error(Errc::io, "no default SQLite VFS");
  shim.real = base;
  shim.syncs_left = nth_sync;
  shim.vfs = *base;  // the other methods (delete, access, randomness, ...) are the real ones
  shim.vfs.szOsFile = static_cast<int>(sizeof(CutFile)) + base->szOsFile;
  shim.vfs.zName = "syscg-test-cut";
  shim.vfs.pNext = nullptr;
  shim.vfs.xOpen = x_open;
  if (const int rc = sqlite3_vfs_register(&shim.vfs, 0); rc != SQLITE_OK)
    return make_error(Errc::io, fmt::format("register the test VFS: {}", sqlite3_errstr(rc)));
  return shim.vfs.zName;
}

}  // namespace syscg::fs
