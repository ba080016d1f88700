// Unit tests of the state database: the rows a change becomes and their
// checks (rows.h), the database itself (store.h), opening, converting and
// locking it (state.h), and the group commit (journal.h).
#include "tests/fs/filesystem_fixture.h"

#include "enforcer/sys/unique_fd.h"
#include "fs/journal.h"
#include "fs/rows.h"
#include "fs/state.h"
#include "fs/inode.h"
#include "fs/store.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fcntl.h>
#include <future>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace syscg::fs {
namespace {

State sample() {
  State s;
  GroupRecord root{.path = "/",
                   .allowed = SyscallSet::all(),
                   .errnos = {},
                   .complain = false,
                   .max_depth = grammar::kUnlimited,
                   .max_descendants = 5,
                   .dir = {0755, 0, 0},
                   .files = {}};
  for (auto& f : root.files) f = {0644, 0, 0};
  GroupRecord web = root;
  web.path = "/web";
  web.max_descendants = grammar::kUnlimited;
  (void)web.allowed.reset(59);
  web.dir = {0750, 1000, 100};
  GroupRecord php = web;
  php.path = "/web/php";
  (void)php.allowed.reset_range(300, 310);
  s.groups = {root, web, php};
  s.members = {{4242, 123456, "/web/php"}};
  return s;
}

Rows rows_of(const State& s) {
  Rows rows;
  const std::vector<RowKey> keys{1, 2, 3, 4, 5, 6, 7, 8};
  for (const auto& op : state_rows(s, std::span(keys).first(s.groups.size()))) {
    if (auto* g = std::get_if<PutGroup>(&op)) rows.groups.push_back(g->row);
    if (auto* f = std::get_if<PutFile>(&op)) rows.files.push_back(f->row);
    if (auto* m = std::get_if<PutMember>(&op)) rows.members.push_back(m->row);
  }
  return rows;
}

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/syscg-store-test-XXXXXX";
    if (mkdtemp(templ)) dir_ = templ;
  }
  ~TempDir() { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

TEST(StateRows, DeniedTextRoundTripsAndRejectsGarbage) {
  auto s = SyscallSet::all();
  (void)s.reset(59);
  (void)s.reset_range(300, 310);
  EXPECT_EQ(format_denied(s, {}), "59,300-310");
  EXPECT_EQ(parse_denied("59,300-310")->allowed, s);
  EXPECT_EQ(format_denied(SyscallSet::all(), {}), "");
  EXPECT_EQ(parse_denied("")->allowed, SyscallSet::all());
  for (const char* bad : {"59,", ",59", "x", "5-3", "600", "1--2", "59 ", "-1", "59:", "59:EWHAT", "219", "execve"})
    EXPECT_FALSE(parse_denied(bad)) << bad;
}

TEST(StateRows, DeniedTextKeepsErrnosPerNumber) {
  auto s = SyscallSet::all();
  (void)s.reset_range(300, 310);
  (void)s.reset(435);
  DenyErrnos e;
  SyscallSet nosys;
  (void)nosys.set_range(305, 310);
  (void)nosys.set(435);
  e.assign(nosys, ENOSYS);
  EXPECT_EQ(format_denied(s, e), "300-304,305-310:ENOSYS,435:ENOSYS");
  const auto back = parse_denied("300-304,305-310:ENOSYS,435:ENOSYS");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->allowed, s);
  EXPECT_EQ(back->errnos, e);
}

TEST(StateRows, RowsBecomeTheStateParentsFirst) {
  auto rows = rows_of(sample());
  std::swap(rows.groups[0], rows.groups[2]);  // any order in the table
  auto keyed = to_state(rows);
  ASSERT_TRUE(keyed) << keyed.error().message;
  EXPECT_EQ(encode(keyed.value().state), encode(sample()));
  EXPECT_EQ(keyed.value().keys, (std::vector<RowKey>{1, 2, 3}));
  EXPECT_TRUE(to_state(Rows{}));  // a new database: no groups
}

TEST(StateRows, RowsBreakingTheModelAreCorruptNeverHalfRead) {
  auto check = [](auto change, const char* what) {
    auto rows = rows_of(sample());
    change(rows);
    auto r = to_state(rows);
    EXPECT_FALSE(r) << what;
    if (!r) {
      EXPECT_EQ(r.error().code, Errc::invalid) << what;
    }
  };
  check([](Rows& r) { r.groups[2].parent = 9; }, "a missing parent");
  check([](Rows& r) { r.groups[1].parent = 3; }, "a cycle");
  check([](Rows& r) { (void)r.groups[2].allowed.set(59); }, "wider than its parent");
  check([](Rows& r) { r.groups[1].parent = 0; }, "two roots");
  check([](Rows& r) { r.groups[2].parent = 1, r.groups[2].name = "web"; }, "two children with one name");
  check([](Rows& r) { r.groups[2].name = "a/b"; }, "an invalid name");
  check([](Rows& r) { r.files.erase(r.files.begin()); }, "a missing control file");  // one a v2 database has
  check([](Rows& r) { r.groups[2].complain = true; }, "complain under an enforcing parent");
  check([](Rows& r) { r.files[0].name = "passwd"; }, "an unknown file");
  check([](Rows& r) { r.members[0].group = 7; }, "a member of no group");
  check([](Rows& r) { (void)r.groups[0].allowed.reset(1); }, "a root that denies");
}

TEST(StateStore, CreatedOpenedAndChangedOneTransactionAtATime) {
  TempDir dir;
  const auto path = dir.path("state.db");
  ASSERT_TRUE(Store::create(path, sample()));
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(encode(store.value()->loaded().state), encode(sample()));
    auto row = rows_of(sample()).groups[2];
    row.name = "perl";  // a rename: one row
    ASSERT_TRUE(store.value()->commit(std::vector<RowOp>{PutGroup{row}, DropMember{4242}}));
    // A file of a group that does not exist breaks a foreign key: the whole
    // transaction is refused with io, nothing of it is kept.
    auto failed = store.value()->commit(std::vector<RowOp>{DropGroup{3}, PutFile{FileRow{99, "cgroup.procs", {}}}});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Errc::io);
  }
  auto again = Store::open(path);
  ASSERT_TRUE(again) << again.error().message;
  const auto& s = again.value()->loaded().state;
  ASSERT_EQ(s.groups.size(), 3u);
  EXPECT_EQ(s.groups[2].path, "/web/perl");
  EXPECT_TRUE(s.members.empty());
}

// A database of schema version 2 (before syscalls.mode and the export
// files) is upgraded in place on open: every group enforces, the new
// files get their defaults, and the views show the mode.
TEST(StateStore, AVersion2DatabaseIsUpgradedInPlace) {
  TempDir dir;
  const auto db = dir.path("v2.db");
  ASSERT_TRUE(Store::create(db, sample()));
  const std::string to_v2 =
      "sqlite3 '" + db +
      "' \"DROP VIEW members_by_path; DROP VIEW groups_by_path; ALTER TABLE groups DROP COLUMN complain;"
      " DELETE FROM files WHERE name IN ('syscalls.mode','syscalls.bpf','syscalls.oci','syscalls.systemd');"
      " CREATE VIEW groups_by_path AS SELECT id FROM groups; CREATE VIEW members_by_path AS SELECT pid FROM members;"
      " PRAGMA user_version = 2;\"";
  ASSERT_EQ(std::system(to_v2.c_str()), 0);
  auto r = Store::open(db);
  ASSERT_TRUE(r) << r.error().message;
  const auto& groups = r.value()->loaded().state.groups;
  ASSERT_EQ(groups.size(), sample().groups.size());
  for (const auto& g : groups) {
    EXPECT_FALSE(g.complain) << g.path;
    const auto& allow = g.files[index_of(FileKind::syscalls_allow)];
    EXPECT_EQ(g.files[kStateFilesV2].mode, allow.mode) << "syscalls.mode: as syscalls.allow, not the directory's";
    EXPECT_EQ(g.files[kStateFilesV2].uid, allow.uid) << g.path;
    EXPECT_EQ(g.files[kStateFilesV2 + 1].mode, 0444u) << "syscalls.bpf";
    EXPECT_EQ(g.files[kStateFilesV2 + 1].uid, g.dir.uid) << "syscalls.bpf";
  }
  r.value().reset();  // closed before the shell reads it
  const std::string query =
      "sqlite3 '" + db + "' 'PRAGMA user_version; SELECT path, syscalls_mode FROM groups_by_path'";
  FILE* p = popen(query.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out(4096, '\0');
  out.resize(fread(out.data(), 1, out.size(), p));
  pclose(p);
  EXPECT_EQ(out.substr(0, 2), "3\n") << out;
  EXPECT_NE(out.find("|enforce"), std::string::npos) << out;
}

TEST(StateStore, ForeignOrDamagedFilesAreCorruptUnreadableOnesIo) {
  TempDir dir;
  const auto garbage = dir.path("garbage");
  {
    sys::UniqueFd fd(::open(garbage.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    const std::string text(8192, 'x');
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()), 8192);
  }
  auto r = Store::open(garbage);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid) << r.error().message;
  const auto other = dir.path("other.db");
  ASSERT_EQ(std::system(("sqlite3 '" + other + "' 'create table t(x)'").c_str()), 0);
  r = Store::open(other);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid) << r.error().message;
  const auto newer = dir.path("newer.db");
  ASSERT_TRUE(Store::create(newer, sample()));
  ASSERT_EQ(std::system(("sqlite3 '" + newer + "' 'pragma user_version = 4'").c_str()), 0);
  r = Store::open(newer);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("version 4"), std::string::npos) << r.error().message;
  const auto broken = dir.path("broken.db");
  ASSERT_TRUE(Store::create(broken, sample()));
  ASSERT_EQ(std::system(("sqlite3 '" + broken + "' \"update groups set denied = 'x' where id = 2\"").c_str()), 0);
  r = Store::open(broken);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid) << r.error().message;
  r = Store::open(dir.path(""));  // a directory
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io) << r.error().message;
}

TEST(StateOpen, AVersion1FileIsConvertedAndKept) {
  TempDir dir;
  sys::MemoryLog log;
  const auto text = encode(sample());
  auto write = [&](const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
  // The old default: state.db is made from state, which stays.
  write(dir.path("state"));
  auto db = open_state(dir.path("state.db"), false, log);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(encode(db.value()->loaded().state), encode(sample()));
  EXPECT_EQ(::access(dir.path("state").c_str(), F_OK), 0);
  // A version-1 file named by -o state=PATH: PATH becomes the database,
  // the file is kept as PATH.v1.
  write(dir.path("explicit"));
  db = open_state(dir.path("explicit"), false, log);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(encode(db.value()->loaded().state), encode(sample()));
  auto kept = load_v1(dir.path("explicit.v1"));
  ASSERT_TRUE(kept && kept.value());
  db = open_state(dir.path("explicit"), false, log);  // the second start opens it
  ASSERT_TRUE(db) << db.error().message;
  // Nothing at all: an empty database.
  db = open_state(dir.path("new.db"), false, log);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_TRUE(db.value()->loaded().state.groups.empty());
}

TEST(StateOpen, ACorruptStateIsSetAsideOnlyWhenToldToStartFresh) {
  TempDir dir;
  sys::MemoryLog log;
  const auto path = dir.path("state.db");
  ASSERT_EQ(std::system(("head -c 9000 /dev/urandom > '" + path + "'").c_str()), 0);
  auto db = open_state(path, false, log);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, Errc::invalid);
  EXPECT_NE(db.error().message.find(path), std::string::npos) << db.error().message;
  db = open_state(path, true, log);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_TRUE(db.value()->loaded().state.groups.empty());
  EXPECT_EQ(::access((path + ".corrupt").c_str(), F_OK), 0);
}

TEST(StateLockTest, ASecondHolderIsRefusedWithThePidOfTheFirst) {
  TempDir dir;
  const auto path = dir.path("state.db");
  auto first = StateLock::acquire(path);
  ASSERT_TRUE(first) << first.error().message;
  auto second = StateLock::acquire(path);  // another open file: flock refuses it
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::busy);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(getpid())), std::string::npos)
      << second.error().message;
}

// A commit that records its batches and can be held or made to fail.
struct FakeCommit {
  Status operator()(std::span<const RowOp> ops) {
    std::unique_lock lock(mu);
    batches.push_back(ops.size());
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
    if (fail) return make_error(Errc::io, "disk full");
    return outcome::success();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::size_t> batches;
  int entered = 0;
  bool hold = false, fail = false;
};

std::vector<RowOp> one_row(Pid pid) { return {DropMember{pid}}; }

TEST(StateJournal, WritersQueuedDuringACommitShareTheNextOne) {
  FakeCommit fake;
  Journal journal([&](std::span<const RowOp> ops) { return fake(ops); });
  fake.hold = true;
  auto first = journal.enqueue(one_row(1)).value();
  auto leader = std::async(std::launch::async, [&] { return journal.wait(first); });
  {
    std::unique_lock lock(fake.mu);
    fake.cv.wait(lock, [&] { return fake.entered == 1; });  // the leader is in its commit
  }
  std::vector<std::future<Status>> followers;
  for (Pid p = 2; p < 10; ++p) {
    auto t = journal.enqueue(one_row(p)).value();
    followers.push_back(std::async(std::launch::async, [&journal, t] { return journal.wait(t); }));
  }
  {
    std::lock_guard lock(fake.mu);
    fake.hold = false;
  }
  fake.cv.notify_all();
  EXPECT_TRUE(leader.get());
  for (auto& f : followers) EXPECT_TRUE(f.get());
  EXPECT_EQ(fake.batches, (std::vector<std::size_t>{1, 8}));  // 9 changes, 2 transactions
  EXPECT_EQ(journal.commits(), 2u);
}

TEST(StateJournal, AFailedCommitFailsItsBatchAndAsksForTheWholeState) {
  FakeCommit fake;
  Journal journal([&](std::span<const RowOp> ops) { return fake(ops); });
  fake.fail = true;
  fake.hold = true;
  auto first = journal.enqueue(one_row(1)).value();
  auto leader = std::async(std::launch::async, [&] { return journal.wait(first); });
  {
    std::unique_lock lock(fake.mu);
    fake.cv.wait(lock, [&] { return fake.entered == 1; });
  }
  auto behind = journal.enqueue(one_row(2)).value();  // builds on the failing one
  {
    std::lock_guard lock(fake.mu);
    fake.hold = false;
  }
  fake.cv.notify_all();
  auto failed = leader.get();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::io);
  auto also = journal.wait(behind);
  ASSERT_FALSE(also);
  EXPECT_EQ(also.error().code, Errc::io);
  EXPECT_EQ(fake.batches.size(), 1u) << "the ops behind a failed commit are never committed alone";
  EXPECT_FALSE(journal.enqueue(one_row(3))) << "a delta on a store that missed a commit";
  fake.fail = false;
  auto whole = journal.enqueue({DropAll{}, DropMember{4}});
  ASSERT_TRUE(whole);
  EXPECT_TRUE(journal.wait(*whole));
  EXPECT_TRUE(journal.enqueue(one_row(5)));
}

// What a change writes: only its rows, whatever the size of the tree.
class StateRowsOfChanges : public unit::FilesystemTest {
 protected:
  StateRowsOfChanges()
      : journal_([this](std::span<const RowOp> ops) {
          last_.assign(ops.begin(), ops.end());
          return outcome::success();
        }),
        saved_(hierarchy2_, fake_, log_, Options{{}, &journal_, false}) {
    fake_.set_listener(&saved_);
  }
  std::vector<RowOp> last_;
  Journal journal_;
  Hierarchy hierarchy2_;
  Filesystem saved_;
};

TEST_F(StateRowsOfChanges, ALeafDenyIsOneRowAMkdirItsGroupAndFiles) {
  auto a = saved_.mkdir(kRootInode, "a", 0755, unit::kRoot).value().ino;
  EXPECT_EQ(last_.size(), 1u + kStateFiles);
  Ino leaf = a;
  for (int i = 0; i < 50; ++i) leaf = saved_.mkdir(leaf, "c", 0755, unit::kRoot).value().ino;
  auto h = saved_.open(saved_.lookup(leaf, "syscalls.deny").value().ino, O_WRONLY, unit::kRoot).value();
  ASSERT_TRUE(saved_.write(h, "59", unit::kRoot));
  saved_.release(h);
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PutGroup>(last_[0]));
  // A deny on `a` narrows its 51 groups; a second one of the same number none.
  h = saved_.open(saved_.lookup(a, "syscalls.deny").value().ino, O_WRONLY, unit::kRoot).value();
  ASSERT_TRUE(saved_.write(h, "60", unit::kRoot));
  EXPECT_EQ(last_.size(), 51u);
  last_.clear();
  ASSERT_TRUE(saved_.write(h, "60", unit::kRoot));
  EXPECT_EQ(last_.size(), 0u);
  saved_.release(h);
  ASSERT_TRUE(saved_.rename(kRootInode, "a", kRootInode, "b", 0));
  EXPECT_EQ(last_.size(), 1u);
  fake_.set_listener(&fs_);
}

}  // namespace
}  // namespace syscg::fs
