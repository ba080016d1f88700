// The plain sqlite3 C API in small RAII classes: a connection (Db) and a
// prepared statement (Stmt), every result checked. Errors carry the call,
// SQLite's message and extended code, and the errno of a failed system call
// (sqlite3_system_errno) in Error::sys_errno.
#pragma once

#include "core/error.h"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace syscg::fs::sqlite {

// The Errc of a SQLite result: SQLITE_CORRUPT and SQLITE_NOTADB are invalid
// (a damaged or foreign file), everything else io.
Errc errc_of(int rc) noexcept;

class Db {
 public:
  // sqlite3_open_v2 with `flags` (SQLITE_OPEN_*), through the VFS `vfs`
  // (null: the default one).
  static Result<Db> open(const std::string& path, int flags, const char* vfs = nullptr);

  // Runs SQL without results (one or more statements).
  Status exec(const char* sql, std::string_view what);
  // The first column of the first row of a one-row query, as text.
  Result<std::string> query_text(const char* sql, std::string_view what);
  // An Error for the result `rc` of the call `what` on this connection.
  Error error(int rc, std::string_view what) const;
  sqlite3* get() const { return db_.get(); }
  bool in_transaction() const { return db_ && sqlite3_get_autocommit(db_.get()) == 0; }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit Db(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Close> db_;
};

class Stmt {
 public:
  Stmt() = default;
  static Result<Stmt> prepare(Db& db, const char* sql);

  // Binds are 1-based, as in SQLite.
  Status bind(int i, std::int64_t v);
  Status bind(int i, std::string_view v);
  Status bind_null(int i);
  // One step: true for a row, false when done. Resets after done or error.
  Result<bool> step();
  // Runs to completion (a statement without rows) and resets.
  Status run();
  void reset();
  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_.get(), i); }
  bool column_null(int i) const { return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL; }
  std::string column_text(int i) const;
  sqlite3_stmt* raw() const { return stmt_.get(); }

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  Status check_bind(int rc, int i);
  Db* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

}  // namespace syscg::fs::sqlite
