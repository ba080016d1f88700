// Where syscgfs's state lives and how it is opened at start: the database
// (store.h) at `-o state=PATH` (default kDefaultStatePath), its lock, the
// conversion of a version-1 text file (state_codec.h), and what a corrupt
// state does.
//
// Conversion: a version-1 file is converted on the first start that finds
// no database, into a new database written atomically (Store::create):
//  - PATH itself is a version-1 file (an older `-o state=PATH`): it is kept
//    as PATH.v1 and PATH becomes the database;
//  - PATH does not exist, ends in ".db", and PATH without ".db" is a
//    version-1 file (the old default /var/lib/syscg/state): that file is
//    kept where it is.
// With neither, an empty database is created.
#pragma once

#include "core/error.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"
#include "fs/state_codec.h"
#include "fs/store.h"

#include <memory>
#include <optional>
#include <string>

namespace syscg::fs {

inline constexpr const char* kDefaultStatePath = "/var/lib/syscg/state.db";

// One daemon per state: flock(LOCK_EX|LOCK_NB) on PATH.lock, which holds
// the holder's pid; released when the daemon exits, however it exits. The
// file itself stays (removing it would race with a starting daemon).
// SQLite's own locks do not keep a second writer process out.
class StateLock {
 public:
  // Errors: busy ("PATH is in use by syscgfs pid N"), io.
  static Result<StateLock> acquire(const std::string& db_path);
  // A controlled restart: the lock's fd, handed over by the daemon that
  // holds it (the same open file, so the same flock), checked to be
  // PATH.lock and written with our pid. Errors: invalid (another file), io.
  static Result<StateLock> inherit(const std::string& db_path, sys::UniqueFd fd);
  int fd() const { return fd_.get(); }

 private:
  explicit StateLock(sys::UniqueFd fd) : fd_(std::move(fd)) {}
  sys::UniqueFd fd_;
};

// Reads a version-1 text file: nullopt if there is none. Errors: io
// (unreadable: the failed call and its errno); invalid (corrupt, decode()).
Result<std::optional<State>> load_v1(const std::string& path);

// Opens the database at `path` (through the VFS `vfs`, null: the default),
// converting or creating it first (above). A corrupt database or version-1
// file stops the start (invalid) unless `fresh`: it is then kept aside as
// FILE.corrupt (the database with its WAL, FILE.corrupt-wal), the log says
// so, and an empty database is created. An unreadable one (io) is never set
// aside. Errors: invalid, io; their message names the file.
Result<std::unique_ptr<Store>> open_state(const std::string& path, bool fresh, sys::Log& log,
                                          const char* vfs = nullptr);

}  // namespace syscg::fs
