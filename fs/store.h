// syscgfs's state database (SQLite, rows.h's tables): created, opened and
// checked, read whole at start, then changed one transaction per commit.
//
// The connection runs in WAL mode with synchronous=FULL: commit() returns
// once the transaction's WAL frames are synced, so an acknowledged change
// survives a kill -9 and a machine crash; a transaction cut short leaves no
// trace. PRAGMA user_version holds the schema version (kSchemaVersion; the
// text file was version 1) and application_id marks the file as ours.
//
// Not thread-safe: one caller at a time (the journal's commit leader; before
// that, the start-up code).
#pragma once

#include "core/error.h"
#include "fs/rows.h"
#include "fs/sqlite.h"

#include <memory>
#include <span>
#include <string>

namespace syscg::fs {

inline constexpr int kSchemaVersion = 3;

class Store {
 public:
  // Writes a new database at `path` holding `state` (keys 1, 2, ... in its
  // order; an empty state: no rows) atomically: built as `path`.tmp, synced,
  // renamed over `path`, the directory synced. Errors: io.
  static Status create(const std::string& path, const State& state);

  // Opens an existing database through the VFS `vfs` (null: the default),
  // checks it (application_id, user_version, PRAGMA quick_check) and reads
  // it whole (to_state). Errors: invalid (corrupt: not a database, a
  // failed check, an unknown version, rows breaking the model's rules), io
  // (unreadable: the call and its errno).
  static Result<std::unique_ptr<Store>> open(const std::string& path, const char* vfs = nullptr);
  // What open() read.
  const KeyedState& loaded() const { return loaded_; }

  // One transaction with every op, durable when it returns. Errors: io
  // (with SQLite's code and errno); the transaction is then rolled back:
  // nothing of `ops` is in the database.
  Status commit(std::span<const RowOp> ops);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

 private:
  explicit Store(sqlite::Db db) : db_(std::move(db)) {}
  Status prepare();
  Status apply(const RowOp& op);
  Result<Rows> read();

  sqlite::Db db_;
  KeyedState loaded_;
  // Prepared once, reused by every commit.
  sqlite::Stmt begin_, commit_, rollback_;
  sqlite::Stmt set_group_, put_group_, put_file_, drop_group_files_, drop_group_members_, drop_group_;
  sqlite::Stmt put_member_, drop_member_, drop_all_members_, drop_all_files_, drop_all_groups_;
};

}  // namespace syscg::fs
