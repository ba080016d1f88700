#include "fs/sqlite.h"

#include <fmt/format.h>

#include <cstring>

namespace syscg::fs::sqlite {

Errc errc_of(int rc) noexcept {
  const int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ? Errc::invalid : Errc::io;
}

Result<Db> Db::open(const std::string& path, int flags, const char* vfs) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_EXRESCODE, vfs);
  Db db(raw);  // closed on every path, even when the open failed
  if (rc != SQLITE_OK) {
    if (!raw) return make_error(Errc::io, fmt::format("open {}: {}", path, sqlite3_errstr(rc)));
    return db.error(rc, "open " + path);
  }
  return db;
}

Error Db::error(int rc, std::string_view what) const {
  const int sys = db_ ? sqlite3_system_errno(db_.get()) : 0;
  std::string message =
      fmt::format("{}: {} ({})", what, db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc), sqlite3_errstr(rc));
  // Only a failed system call leaves an errno worth reporting.
  const bool system = (rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_FULL;
  if (system && sys != 0) message += fmt::format(", {} ({})", std::strerror(sys), sys);
  return Error{errc_of(rc), std::move(message), system ? sys : 0};
}

Status Db::exec(const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return outcome::success();
}

Result<std::string> Db::query_text(const char* sql, std::string_view what) {
  BOOST_OUTCOME_TRY(stmt, Stmt::prepare(*this, sql));
  BOOST_OUTCOME_TRY(row, stmt.step());
  if (!row) return make_error(Errc::invalid, fmt::format("{}: no result", what));
  auto text = stmt.column_text(0);
  stmt.reset();
  return text;
}

Result<Stmt> Stmt::prepare(Db& db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt s;
  s.db_ = &db;
  s.stmt_.reset(raw);
  if (rc != SQLITE_OK) return db.error(rc, fmt::format("prepare '{}'", sql));
  return s;
}

Status Stmt::check_bind(int rc, int i) {
  if (rc != SQLITE_OK) return db_->error(rc, fmt::format("bind {} of '{}'", i, sqlite3_sql(stmt_.get())));
  return outcome::success();
}

Status Stmt::bind(int i, std::int64_t v) { return check_bind(sqlite3_bind_int64(stmt_.get(), i, v), i); }

Status Stmt::bind(int i, std::string_view v) {
  return check_bind(sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT), i);
}

Status Stmt::bind_null(int i) { return check_bind(sqlite3_bind_null(stmt_.get(), i), i); }

Result<bool> Stmt::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  sqlite3_reset(stmt_.get());
  if (rc == SQLITE_DONE) return false;
  return db_->error(rc, fmt::format("step '{}'", sqlite3_sql(stmt_.get())));
}

Status Stmt::run() {
  BOOST_OUTCOME_TRY(row, step());
  if (row) {
    reset();
    return make_error(Errc::invalid, fmt::format("'{}' returned a row", sqlite3_sql(stmt_.get())));
  }
  return outcome::success();
}

void Stmt::reset() { sqlite3_reset(stmt_.get()); }

std::string Stmt::column_text(int i) const {
  const auto* text = sqlite3_column_text(stmt_.get(), i);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), i)))
              : std::string();
}

}  // namespace syscg::fs::sqlite
