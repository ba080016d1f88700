// The database: schema, checks on open, and the statements a commit runs.
// Every statement is prepared once (SQLITE_PREPARE_PERSISTENT) and reused.
#include "fs/store.h"

#include "core/grammar.h"
#include "enforcer/sys/error.h"
#include "enforcer/sys/unique_fd.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

constexpr std::int64_t kApplicationId = 0x53594347;  // "SYCG"

// Foreign keys are deferred: a transaction is checked whole at COMMIT, so no
// orphan row can ever be committed.
constexpr const char* kSchema = R"sql(
PRAGMA application_id = 1398358855;
PRAGMA user_version = 3;
CREATE TABLE groups (
  id INTEGER PRIMARY KEY,
  parent INTEGER REFERENCES groups(id) DEFERRABLE INITIALLY DEFERRED,
  name TEXT NOT NULL,
  denied TEXT NOT NULL,
  max_depth INTEGER,
  max_descendants INTEGER,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  complain INTEGER NOT NULL DEFAULT 0,
  UNIQUE (parent, name)
);
CREATE TABLE files (
  grp INTEGER NOT NULL REFERENCES groups(id) DEFERRABLE INITIALLY DEFERRED,
  name TEXT NOT NULL,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  PRIMARY KEY (grp, name)
) WITHOUT ROWID;
CREATE TABLE members (
  pid INTEGER PRIMARY KEY,
  start_time INTEGER NOT NULL,
  grp INTEGER NOT NULL REFERENCES groups(id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX members_by_group ON members(grp);
)sql";

// The views for users (README "The state"), made with the tables and again
// by an upgrade.
constexpr const char* kViews = R"sql(
CREATE VIEW groups_by_path (path, id, denied, max_depth, max_descendants, mode, uid, gid, syscalls_mode) AS
  WITH RECURSIVE p(id, path) AS (
    SELECT id, '/' FROM groups WHERE parent IS NULL
    UNION ALL
    SELECT g.id, CASE WHEN p.path = '/' THEN '/' || g.name ELSE p.path || '/' || g.name END
    FROM groups g JOIN p ON g.parent = p.id)
  SELECT p.path, g.id, g.denied, coalesce(g.max_depth, 'max'), coalesce(g.max_descendants, 'max'),
         printf('%o', g.mode), g.uid, g.gid, CASE WHEN g.complain THEN 'complain' ELSE 'enforce' END
  FROM p JOIN groups g ON g.id = p.id ORDER BY p.path;
CREATE VIEW members_by_path (pid, start_time, path) AS
  SELECT m.pid, m.start_time, p.path FROM members m JOIN groups_by_path p ON p.id = m.grp ORDER BY m.pid;
)sql";
static_assert(kApplicationId == 1398358855 && kSchemaVersion == 3, "kSchema's pragmas");

// Version 2 -> 3: syscalls.mode (groups.complain, and its file with the
// owner and mode of the group's syscalls.allow: it loosens as an allow
// does), the export files (0444, the directory's owner), the views again.
constexpr const char* kFromVersion2 = R"sql(
ALTER TABLE groups ADD COLUMN complain INTEGER NOT NULL DEFAULT 0;
INSERT INTO files (grp, name, mode, uid, gid)
  SELECT grp, 'syscalls.mode', mode, uid, gid FROM files WHERE name = 'syscalls.allow';
INSERT INTO files (grp, name, mode, uid, gid)
  SELECT g.id, f.name, 292, g.uid, g.gid FROM groups g,
    (SELECT 'syscalls.bpf' AS name UNION ALL SELECT 'syscalls.oci' UNION ALL SELECT 'syscalls.systemd') f;
DROP VIEW IF EXISTS members_by_path;
DROP VIEW IF EXISTS groups_by_path;
)sql";

Error io(Error e) {
  e.code = Errc::io;
  return e;
}

// A statement that fails to prepare on an opened database means a schema
// that is not ours: corrupt, unless the system failed.
Error schema_error(Error e) {
  if (e.sys_errno == 0) e.code = Errc::invalid;
  return e;
}

Error malformed(std::string_view table, std::int64_t key, std::string_view column) {
  return make_error(Errc::invalid, fmt::format("{} row {}: malformed {}", table, key, column));
}

Status sync_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys::sys_error(Errc::io, "open " + dir);
  if (::fsync(fd.get()) != 0) return sys::sys_error(Errc::io, "fsync " + dir);
  return outcome::success();
}

Status bind_limit(sqlite::Stmt& s, int i, int limit) {
  return limit == grammar::kUnlimited ? s.bind_null(i) : s.bind(i, std::int64_t{limit});
}

}  // namespace

Status Store::prepare() {
  struct Def {
    sqlite::Stmt* stmt;
    const char* sql;
  };
  const Def defs[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      // A group that keeps its place: an UPDATE that leaves (parent, name)
      // out, so that their index is not rewritten (one page per commit, not
      // two); put_group_ when it did not match.
      {&set_group_,
       "UPDATE groups SET denied = ?4, max_depth = ?5, max_descendants = ?6, mode = ?7, uid = ?8, gid = ?9, "
       "complain = ?10 WHERE id = ?1 AND parent IS ?2 AND name = ?3"},
      {&put_group_,
       "INSERT INTO groups (id, parent, name, denied, max_depth, max_descendants, mode, uid, gid, complain) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET parent = ?2, name = ?3, "
       "denied = ?4, max_depth = ?5, max_descendants = ?6, mode = ?7, uid = ?8, gid = ?9, complain = ?10"},
      {&put_file_,
       "INSERT INTO files (grp, name, mode, uid, gid) VALUES (?1, ?2, ?3, ?4, ?5) "
       "ON CONFLICT (grp, name) DO UPDATE SET mode = ?3, uid = ?4, gid = ?5"},
      {&drop_group_files_, "DELETE FROM files WHERE grp = ?1"},
      {&drop_group_members_, "DELETE FROM members WHERE grp = ?1"},
      {&drop_group_, "DELETE FROM groups WHERE id = ?1"},
      {&put_member_,
       "INSERT INTO members (pid, start_time, grp) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (pid) DO UPDATE SET start_time = ?2, grp = ?3"},
      {&drop_member_, "DELETE FROM members WHERE pid = ?1"},
      {&drop_all_members_, "DELETE FROM members"},
      {&drop_all_files_, "DELETE FROM files"},
      {&drop_all_groups_, "DELETE FROM groups"},
  };
  for (const auto& d : defs) {
    BOOST_OUTCOME_TRY(s, sqlite::Stmt::prepare(db_, d.sql));
    *d.stmt = std::move(s);
  }
  return outcome::success();
}

Status Store::apply(const RowOp& op) {
  if (const auto* g = std::get_if<PutGroup>(&op)) {
    const auto& r = g->row;
    for (auto* s : {&set_group_, &put_group_}) {
      BOOST_OUTCOME_TRY(s->bind(1, r.key));
      BOOST_OUTCOME_TRY(r.parent == 0 ? s->bind_null(2) : s->bind(2, r.parent));
      BOOST_OUTCOME_TRY(s->bind(3, r.name));
      BOOST_OUTCOME_TRY(s->bind(4, format_denied(r.allowed, r.errnos)));
      BOOST_OUTCOME_TRY(bind_limit(*s, 5, r.max_depth));
      BOOST_OUTCOME_TRY(bind_limit(*s, 6, r.max_descendants));
      BOOST_OUTCOME_TRY(s->bind(7, std::int64_t{r.dir.mode}));
      BOOST_OUTCOME_TRY(s->bind(8, std::int64_t{r.dir.uid}));
      BOOST_OUTCOME_TRY(s->bind(9, std::int64_t{r.dir.gid}));
      BOOST_OUTCOME_TRY(s->bind(10, std::int64_t{r.complain ? 1 : 0}));
      BOOST_OUTCOME_TRY(s->run());
      if (sqlite3_changes(db_.get()) > 0) return outcome::success();
    }
    return outcome::success();
  }
  if (const auto* f = std::get_if<PutFile>(&op)) {
    auto& s = put_file_;
    BOOST_OUTCOME_TRY(s.bind(1, f->row.group));
    BOOST_OUTCOME_TRY(s.bind(2, f->row.name));
    BOOST_OUTCOME_TRY(s.bind(3, std::int64_t{f->row.meta.mode}));
    BOOST_OUTCOME_TRY(s.bind(4, std::int64_t{f->row.meta.uid}));
    BOOST_OUTCOME_TRY(s.bind(5, std::int64_t{f->row.meta.gid}));
    return s.run();
  }
  if (const auto* d = std::get_if<DropGroup>(&op)) {
    for (auto* s : {&drop_group_members_, &drop_group_files_, &drop_group_}) {
      BOOST_OUTCOME_TRY(s->bind(1, d->key));
      BOOST_OUTCOME_TRY(s->run());
    }
    return outcome::success();
  }
  if (const auto* m = std::get_if<PutMember>(&op)) {
    auto& s = put_member_;
    BOOST_OUTCOME_TRY(s.bind(1, std::int64_t{m->row.pid}));
    BOOST_OUTCOME_TRY(s.bind(2, static_cast<std::int64_t>(m->row.start_time)));
    BOOST_OUTCOME_TRY(s.bind(3, m->row.group));
    return s.run();
  }
  if (const auto* d = std::get_if<DropMember>(&op)) {
    BOOST_OUTCOME_TRY(drop_member_.bind(1, std::int64_t{d->pid}));
    return drop_member_.run();
  }
  for (auto* s : {&drop_all_members_, &drop_all_files_, &drop_all_groups_}) {
    BOOST_OUTCOME_TRY(s->run());
  }
  return outcome::success();
}

Status Store::commit(std::span<const RowOp> ops) {
  auto done = [&]() -> Status {
    BOOST_OUTCOME_TRY(begin_.run());
    for (const auto& op : ops) {
      BOOST_OUTCOME_TRY(apply(op));
    }
    return commit_.run();
  }();
  if (done) return done;
  // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or have
  // rolled it back already (an I/O error): either way nothing is kept.
  if (db_.in_transaction()) (void)rollback_.run();
  return io(done.error());
}

Status Store::create(const std::string& path, const State& state) {
  const std::string tmp = path + ".tmp";
  for (const auto& f : {tmp, tmp + "-journal"})
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) return sys::sys_error(Errc::io, "unlink " + f);
  {
    BOOST_OUTCOME_TRY(db, sqlite::Db::open(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    // A rollback journal while building: the closed file is the whole
    // database (open() switches it to WAL).
    BOOST_OUTCOME_TRY(
        db.exec("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "set up " + tmp));
    Store store(std::move(db));
    BOOST_OUTCOME_TRY(store.db_.exec("BEGIN IMMEDIATE", "begin " + tmp));
    const std::string schema = std::string(kSchema) + kViews;
    BOOST_OUTCOME_TRY(store.db_.exec(schema.c_str(), "create the schema in " + tmp));
    BOOST_OUTCOME_TRY(store.prepare());
    std::vector<RowKey> keys(state.groups.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<RowKey>(i + 1);
    const auto ops = state_rows(state, keys);
    for (const auto& op : ops) {
      BOOST_OUTCOME_TRY(store.apply(op));
    }
    if (auto c = store.commit_.run(); !c) return io(c.error());
  }  // closed
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys::sys_error(Errc::io, "rename " + tmp + " to " + path);
  return sync_dir(path);
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const char* vfs) {
  BOOST_OUTCOME_TRY(db, sqlite::Db::open(path, SQLITE_OPEN_READWRITE, vfs));
  std::unique_ptr<Store> store(new Store(std::move(db)));
  auto& d = store->db_;
  BOOST_OUTCOME_TRY(app, d.query_text("PRAGMA application_id", "read " + path));
  BOOST_OUTCOME_TRY(version, d.query_text("PRAGMA user_version", "read " + path));
  if (app != std::to_string(kApplicationId))
    return make_error(Errc::invalid, fmt::format("{}: not a syscg state database (application_id {})", path, app));
  BOOST_OUTCOME_TRY(check, d.query_text("PRAGMA quick_check", "check " + path));
  if (check != "ok") return make_error(Errc::invalid, fmt::format("{}: quick_check: {}", path, check));
  if (version == "2") {
    // The schema before syscalls.mode: upgraded in place, in one
    // transaction (every group enforces, as before).
    const std::string upgrade = std::string(kFromVersion2) + kViews + "PRAGMA user_version = 3;";
    BOOST_OUTCOME_TRY(d.exec("BEGIN IMMEDIATE", "upgrade the schema of " + path));
    if (auto up = d.exec(upgrade.c_str(), "upgrade the schema of " + path); !up) {
      (void)d.exec("ROLLBACK", "roll back the upgrade of " + path);  // the file stays a version 2 one
      return make_error(Errc::invalid, up.error().message);
    }
    BOOST_OUTCOME_TRY(d.exec("COMMIT", "upgrade the schema of " + path));
    version = std::to_string(kSchemaVersion);
  }
  if (version != std::to_string(kSchemaVersion))
    return make_error(Errc::invalid, fmt::format("{}: unknown schema version {}", path, version));
  BOOST_OUTCOME_TRY(mode, d.query_text("PRAGMA journal_mode = WAL", "set WAL mode on " + path));
  if (mode != "wal") return make_error(Errc::io, fmt::format("{}: cannot use WAL mode (journal_mode {})", path, mode));
  // FULL: a commit syncs the WAL before it returns. A reader (the sqlite3
  // shell) never blocks a commit; a writer other than us is waited for 1 s.
  BOOST_OUTCOME_TRY(
      d.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 1000", "set up " + path));
  if (auto p = store->prepare(); !p) return schema_error(p.error());
  auto rows = store->read();
  if (!rows) return schema_error(rows.error());
  auto loaded = to_state(rows.value());
  if (!loaded) return make_error(Errc::invalid, fmt::format("{}: {}", path, loaded.error().message));
  store->loaded_ = std::move(loaded).value();
  return store;
}

Result<Rows> Store::read() {
  Rows rows;
  auto int_column = [](sqlite::Stmt& s, int i, std::int64_t lo, std::int64_t hi) -> std::optional<std::int64_t> {
    if (sqlite3_column_type(s.raw(), i) != SQLITE_INTEGER) return std::nullopt;
    const auto v = s.column_int(i);
    if (v < lo || v > hi) return std::nullopt;
    return v;
  };
  auto owner = [&](sqlite::Stmt& s, int i) -> std::optional<OwnerMode> {
    auto mode = int_column(s, i, 0, 07777), uid = int_column(s, i + 1, 0, UINT32_MAX),
         gid = int_column(s, i + 2, 0, UINT32_MAX);
    if (!mode || !uid || !gid) return std::nullopt;
    return OwnerMode{static_cast<mode_t>(*mode), static_cast<uid_t>(*uid), static_cast<gid_t>(*gid)};
  };
  auto limit = [&](sqlite::Stmt& s, int i) -> std::optional<int> {
    if (s.column_null(i)) return grammar::kUnlimited;
    auto v = int_column(s, i, 0, INT_MAX - 1);
    if (!v) return std::nullopt;
    return static_cast<int>(*v);
  };
  BOOST_OUTCOME_TRY(
      groups, sqlite::Stmt::prepare(db_,
                                    "SELECT id, parent, name, denied, max_depth, max_descendants, mode, uid, gid, "
                                    "complain FROM groups"));
  for (;;) {
    BOOST_OUTCOME_TRY(row, groups.step());
    if (!row) break;
    const auto key = groups.column_int(0);
    const auto parent = groups.column_null(1) ? std::optional<std::int64_t>(0) : int_column(groups, 1, 1, INT64_MAX);
    const auto allowed = parse_denied(groups.column_text(3));
    const auto depth = limit(groups, 4), descendants = limit(groups, 5);
    const auto dir = owner(groups, 6);
    const auto complain = int_column(groups, 9, 0, 1);
    if (!parent || !allowed || !depth || !descendants || !dir || !complain) return malformed("groups", key, "columns");
    rows.groups.push_back({key, *parent, groups.column_text(2), allowed->allowed, allowed->errnos, *complain == 1,
                           *depth, *descendants, *dir});
  }
  BOOST_OUTCOME_TRY(files, sqlite::Stmt::prepare(db_, "SELECT grp, name, mode, uid, gid FROM files"));
  for (;;) {
    BOOST_OUTCOME_TRY(row, files.step());
    if (!row) break;
    const auto meta = owner(files, 2);
    if (!meta) return malformed("files", files.column_int(0), "mode or owner");
    rows.files.push_back({files.column_int(0), files.column_text(1), *meta});
  }
  BOOST_OUTCOME_TRY(members, sqlite::Stmt::prepare(db_, "SELECT pid, start_time, grp FROM members"));
  for (;;) {
    BOOST_OUTCOME_TRY(row, members.step());
    if (!row) break;
    const auto pid = int_column(members, 0, 1, INT_MAX), start = int_column(members, 1, 0, INT64_MAX);
    if (!pid || !start) return malformed("members", members.column_int(0), "pid or start time");
    rows.members.push_back({static_cast<Pid>(*pid), static_cast<std::uint64_t>(*start), members.column_int(2)});
  }
  return rows;
}

}  // namespace syscg::fs
