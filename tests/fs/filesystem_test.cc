// Unit tests of syscgfs's file semantics without a mount: the Filesystem over
// a real Hierarchy and a recording fake of the Enforcement seam.
#include "core/grammar.h"
#include "enforcer/sys/log.h"
#include "fs/filesystem.h"
#include "fs/state.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <set>

namespace syscg::fs {
namespace {

class RecordingEnforcement : public Enforcement {
 public:
  struct Attach {
    Pid pid;
    GroupId group;
    SyscallSet allowed;
  };

  Result<Process> identify(Pid written, Pid writer_tid) override {
    const Pid pid = written == 0 ? writer_tid : written;
    auto it = processes.find(pid);
    if (it == processes.end()) return make_error(Errc::no_process, "no such process");
    return it->second;
  }
  Result<Pid> thread_group(Pid tid) override {
    auto it = processes.find(tid);
    if (it == processes.end()) return make_error(Errc::no_process, "no such process");
    return it->second.tgid;
  }
  bool alive(Pid pid) override { return !exited.contains(pid); }
  bool adopt(Pid pid, std::uint64_t, const SyscallSet& allowed) override {
    adopted[pid] = allowed;
    return !exited.contains(pid);
  }
  std::vector<Loss> stricter(Pid pid, const SyscallSet& allowed) override {
    std::vector<Loss> out;
    if (auto it = lost.find(pid); it != lost.end())
      if (auto numbers = it->second & allowed; !numbers.empty()) out.push_back({numbers, "tightened"});
    return out;
  }
  void set_listener(MembershipListener* l) override { listener = l; }
  void barrier() override { ++barriers; }
  void sync() override { ++syncs; }
  std::unique_lock<std::mutex> pause_events() override { return std::unique_lock(pause_mu); }
  bool may_subvert(Pid pid) override { return ptrace_capable.contains(pid); }
  Status attach(Pid pid, std::uint64_t, GroupId group, const SyscallSet& allowed, Pid) override {
    attaches.push_back({pid, group, allowed});
    if (refuse_attach) return make_error(*refuse_attach, "refused by the fake");
    return outcome::success();
  }
  Result<Tightened> policy_changed(std::span<const MemberPolicy> members, Pid) override {
    changes.emplace_back(members.begin(), members.end());
    Tightened out;
    for (const auto& m : members) {
      if (!exited.contains(m.pid)) out.filtered.push_back(m.pid);
      if (auto it = unfiltered_children.find(m.pid); it != unfiltered_children.end()) {
        listener->forked(m.pid, it->second);  // as the fork event would have
        out.unfiltered.push_back({m.pid, it->second});
      }
    }
    return out;
  }

  std::map<Pid, Process> processes;  // tid -> process
  std::set<Pid> exited;
  std::optional<Errc> refuse_attach;
  std::map<Pid, Pid> unfiltered_children;  // parent -> a child it forked before being tightened
  std::map<Pid, SyscallSet> adopted;       // restored members and their groups' sets
  std::map<Pid, SyscallSet> lost;          // what stricter() reports, as "tightened"
  std::set<Pid> ptrace_capable;            // what may_subvert() reports
  std::mutex pause_mu;
  MembershipListener* listener = nullptr;
  int syncs = 0;
  int barriers = 0;
  std::vector<Attach> attaches;
  std::vector<std::vector<MemberPolicy>> changes;
};

// The writers' own processes (4000, 2500) are members of no group.
constexpr Caller kRoot{0, 0, 4000};
constexpr Caller kUser{1000, 1000, 2500};

class FilesystemTest : public ::testing::Test {
 protected:
  FilesystemTest() : fs_(hierarchy_, fake_, log_) {
    fake_.processes[1000] = {1000, 0, 0, 0, 10000};
    fake_.processes[2000] = {2000, 1000, 1000, 1000, 20000};
    fake_.processes[2001] = {2000, 1000, 1000, 1000, 20000};  // a second thread of 2000
    fake_.processes[3000] = {3000, 0, 0, 0, 30000};
    fake_.processes[4000] = {4000, 0, 0, 0, 40000};
    fake_.processes[2500] = {2500, 1000, 1000, 1000, 25000};
    fake_.set_listener(&fs_);  // as the composition root does
  }

  Ino mkdir(Ino parent, const std::string& name, const Caller& who = kRoot) {
    auto e = fs_.mkdir(parent, name, 0755, who);
    EXPECT_TRUE(e) << name;
    return e ? e.value().ino : 0;
  }
  Ino file(Ino dir, const std::string& name) { return fs_.lookup(dir, name).value().ino; }
  // Opens, writes one command, closes; returns 0 or the errno.
  int write(Ino dir, const std::string& name, const std::string& text, const Caller& who = kRoot) {
    auto h = fs_.open(file(dir, name), O_WRONLY, who);
    if (!h) return to_errno(h.error().code);
    auto r = fs_.write(h.value(), text, who);
    fs_.release(h.value());
    return r ? 0 : to_errno(r.error().code);
  }
  std::string read(Ino dir, const std::string& name) {
    auto h = fs_.open(file(dir, name), O_RDONLY, kRoot).value();
    auto r = fs_.read(h, 0, 1 << 20).value();
    fs_.release(h);
    return r;
  }

  Hierarchy hierarchy_;
  RecordingEnforcement fake_;
  sys::MemoryLog log_;
  Filesystem fs_;
};

TEST_F(FilesystemTest, InodesAreGroupIdsAndTaggedFiles) {
  EXPECT_EQ(inode_of(kRootGroup, FileKind::dir), kRootInode);
  const auto web = mkdir(kRootInode, "web");
  std::set<Ino> seen{kRootInode, web};
  for (const auto& f : kControlFiles) {
    const auto ino = file(web, std::string(f.name));
    EXPECT_TRUE(seen.insert(ino).second) << f.name;
    EXPECT_EQ(decode_inode(ino).group, decode_inode(web).group);
    EXPECT_EQ(decode_inode(ino).kind, f.kind);
  }
}

TEST_F(FilesystemTest, RootHasNoEventsFileAndReadOnlyPolicy) {
  EXPECT_EQ(fs_.lookup(kRootInode, "cgroup.events").error().code, Errc::not_found);
  EXPECT_EQ(write(kRootInode, "syscalls.deny", "59"), EPERM);
  EXPECT_EQ(write(kRootInode, "syscalls.allow", "59"), EPERM);
  EXPECT_EQ(fs_.getattr(file(kRootInode, "syscalls.deny")).value().st_mode & 07777, 0444u);
}

TEST_F(FilesystemTest, AttachAsksTheSeamWithTheGroupsSet) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "syscalls.deny", "execve"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "2001"), 0);  // a thread id: the process moves
  ASSERT_EQ(fake_.attaches.size(), 1u);
  EXPECT_EQ(fake_.attaches[0].pid, 2000);
  EXPECT_FALSE(fake_.attaches[0].allowed.test(59));
  EXPECT_EQ(read(web, "cgroup.procs"), "2000\n");
  EXPECT_EQ(read(web, "cgroup.events"), "populated 1\n");
}

TEST_F(FilesystemTest, ARefusedAttachChangesNothing) {
  const auto web = mkdir(kRootInode, "web");
  fake_.refuse_attach = Errc::busy;
  EXPECT_EQ(write(web, "cgroup.procs", "3000"), EBUSY);
  EXPECT_EQ(read(web, "cgroup.procs"), "");
  EXPECT_FALSE(hierarchy_.group_of(3000));
}

TEST_F(FilesystemTest, ProcsWriteErrors) {
  const auto web = mkdir(kRootInode, "web");
  EXPECT_EQ(write(web, "cgroup.procs", "4242"), ESRCH);
  EXPECT_EQ(write(web, "cgroup.procs", "abc"), EINVAL);
  EXPECT_EQ(write(web, "cgroup.procs", "-5"), EINVAL);
  EXPECT_EQ(write(web, "cgroup.procs", "0", kRoot), 0);  // the writer itself
  EXPECT_EQ(read(web, "cgroup.procs"), "4000\n");
  EXPECT_TRUE(fake_.attaches.size() == 1);
}

TEST_F(FilesystemTest, OnlyRootOrTheOwnerMovesAProcess) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(fs_.setattr(file(web, "cgroup.procs"), [] { struct stat s{}; s.st_mode = 0666; return s; }(),
                        set_attr::mode, kRoot)
                .has_value(),
            true);
  ASSERT_EQ(fs_.setattr(file(kRootInode, "cgroup.procs"), [] { struct stat s{}; s.st_mode = 0666; return s; }(),
                        set_attr::mode, kRoot)
                .has_value(),
            true);
  EXPECT_EQ(write(web, "cgroup.procs", "3000", kUser), EACCES);  // root's process
  EXPECT_TRUE(fake_.attaches.empty());
  EXPECT_EQ(write(web, "cgroup.procs", "2000", kUser), 0);  // its own
}

TEST_F(FilesystemTest, DelegationNeedsTheCommonAncestorsProcs) {
  const auto web = mkdir(kRootInode, "web");
  const auto a = mkdir(web, "a"), b = mkdir(web, "b");
  struct stat own {};
  own.st_uid = kUser.uid;
  own.st_gid = kUser.gid;
  for (auto ino : {file(a, "cgroup.procs"), file(b, "cgroup.procs")})
    ASSERT_TRUE(fs_.setattr(ino, own, set_attr::uid | set_attr::gid, kRoot));
  ASSERT_EQ(write(a, "cgroup.procs", "2000"), 0);  // root puts the user's process in a
  // a -> b: the common ancestor web's cgroup.procs is root's, 0644.
  EXPECT_EQ(write(b, "cgroup.procs", "2000", kUser), EACCES);
  ASSERT_TRUE(fs_.setattr(file(web, "cgroup.procs"), own, set_attr::uid | set_attr::gid, kRoot));
  EXPECT_EQ(write(b, "cgroup.procs", "2000", kUser), 0);
  EXPECT_EQ(read(b, "cgroup.procs"), "2000\n");
}

TEST_F(FilesystemTest, DenyReportsEveryMemberOfTheSubtree) {
  const auto web = mkdir(kRootInode, "web");
  const auto php = mkdir(web, "php");
  ASSERT_EQ(write(web, "cgroup.procs", "1000"), 0);
  ASSERT_EQ(write(php, "cgroup.procs", "3000"), 0);
  ASSERT_EQ(write(web, "syscalls.deny", "59"), 0);
  ASSERT_EQ(fake_.changes.size(), 1u);
  ASSERT_EQ(fake_.changes[0].size(), 2u);
  for (const auto& m : fake_.changes[0]) EXPECT_FALSE(m.allowed.test(59)) << m.pid;
  // An allow cannot loosen running members: nothing to enforce.
  ASSERT_EQ(write(web, "syscalls.allow", "59"), 0);
  EXPECT_EQ(fake_.changes.size(), 1u);
}

TEST_F(FilesystemTest, DenyChasesChildrenForkedBeforeTightening) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "1000"), 0);
  fake_.unfiltered_children[1000] = 1001;  // forked before 1000 got the filter
  fake_.unfiltered_children[1001] = 1002;  // and its child, likewise
  fake_.listener->forked(1000, 1500);      // reported by fork events only: inherited the filter
  ASSERT_EQ(read(web, "cgroup.procs"), "1000\n1500\n");
  ASSERT_EQ(write(web, "syscalls.deny", "59"), 0);
  ASSERT_EQ(fake_.changes.size(), 3u);
  EXPECT_EQ(fake_.changes[0].size(), 2u);  // 1000 and 1500: members when the write began
  ASSERT_EQ(fake_.changes[1].size(), 1u);
  EXPECT_EQ(fake_.changes[1][0].pid, 1001);
  ASSERT_EQ(fake_.changes[2].size(), 1u);
  EXPECT_EQ(fake_.changes[2][0].pid, 1002);
  EXPECT_EQ(read(web, "cgroup.procs"), "1000\n1001\n1002\n1500\n");
  EXPECT_GT(fake_.syncs, 0);
}

TEST_F(FilesystemTest, ForkAndExitReportsUpdateMembership) {
  const auto web = mkdir(kRootInode, "web");
  fake_.listener->forked(3000, 3001);  // not a member's child: ignored
  EXPECT_EQ(read(web, "cgroup.procs"), "");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  fake_.listener->forked(3000, 3001);
  EXPECT_EQ(read(web, "cgroup.procs"), "3000\n3001\n");
  fake_.listener->exited(3000);
  EXPECT_EQ(read(web, "cgroup.procs"), "3001\n");
}

TEST_F(FilesystemTest, MembersCannotReleaseThemselves) {
  const auto web = mkdir(kRootInode, "web");
  const auto sub = mkdir(web, "sub");
  ASSERT_EQ(write(web, "syscalls.deny", "59"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  const Caller member{0, 0, 3000};  // root, but confined in web
  EXPECT_EQ(write(web, "syscalls.allow", "59", member), EPERM);
  EXPECT_EQ(write(kRootInode, "cgroup.procs", "0", member), EPERM);
  const auto other = mkdir(kRootInode, "other");
  EXPECT_EQ(write(other, "cgroup.procs", "1000", member), EPERM);
  EXPECT_EQ(read(web, "syscalls.deny"), "59\n");
  EXPECT_EQ(hierarchy_.group_of(3000), decode_inode(web).group);
  // Below its own group it may tighten, allow what web allows, and populate.
  EXPECT_EQ(write(sub, "syscalls.deny", "60", member), 0);
  EXPECT_EQ(write(sub, "syscalls.allow", "60", member), 0);
  EXPECT_EQ(write(sub, "cgroup.procs", "0", member), 0);
  EXPECT_EQ(hierarchy_.group_of(3000), decode_inode(sub).group);
  // Non-members are not affected.
  EXPECT_EQ(write(web, "syscalls.allow", "59"), 0);
}

TEST_F(FilesystemTest, MembersCannotPullProcessesOutOfGroupsOutsideTheirSubtree) {
  const auto strict = mkdir(kRootInode, "strict");
  const auto open = mkdir(kRootInode, "open");
  ASSERT_EQ(write(strict, "syscalls.deny", "63"), 0);
  ASSERT_EQ(write(strict, "cgroup.procs", "2500"), 0);
  ASSERT_EQ(write(open, "cgroup.procs", "3000"), 0);
  const Caller member{0, 0, 3000};  // root, confined in open
  EXPECT_EQ(write(open, "cgroup.procs", "2500", member), EPERM);
  EXPECT_EQ(hierarchy_.group_of(2500), decode_inode(strict).group);
  // A process in no group it may still confine below its own.
  fake_.processes[2600] = {2600, 0, 0, 0, 26000};
  EXPECT_EQ(write(open, "cgroup.procs", "2600", member), 0);
  EXPECT_EQ(hierarchy_.group_of(2600), decode_inode(open).group);
}

TEST_F(FilesystemTest, WarningsNameKilledAndPtraceCapableMembers) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "4000"), 0);
  EXPECT_EQ(read(web, "syscalls.warnings"), "");
  fake_.ptrace_capable.insert(3000);
  fake_.listener->killed(4000, decode_inode(web).group, "test");
  fake_.listener->exited(4000);  // the kill's exit event
  const auto text = read(web, "syscalls.warnings");
  EXPECT_NE(text.find("subvert 3000 "), std::string::npos) << text;
  EXPECT_NE(text.find("killed 4000 "), std::string::npos) << text;
  ASSERT_EQ(write(web, "syscalls.deny", "ptrace,process_vm_writev,pidfd_getfd"), 0);
  EXPECT_EQ(read(web, "syscalls.warnings").find("subvert"), std::string::npos);
  EXPECT_EQ(write(web, "syscalls.warnings", "x"), EACCES);
}

TEST_F(FilesystemTest, IoUringCallsAreDecidedAsTheFiltersEnforceThem) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_EQ(fs_.trapped(3000, 425), std::optional<bool>(true));
  ASSERT_EQ(write(web, "syscalls.deny", "openat"), 0);  // io_uring could open files: io_uring goes
  EXPECT_EQ(fs_.trapped(3000, 425), std::optional<bool>(false));
  EXPECT_EQ(read(web, "syscalls.warnings").substr(0, 13), "io_uring 257 ");
  ASSERT_EQ(write(web, "syscalls.allow", "openat"), 0);
  EXPECT_EQ(fs_.trapped(3000, 425), std::optional<bool>(true));
}

TEST_F(FilesystemTest, RestoreRebuildsTreePolicyOwnersAndMembers) {
  char dir[] = "/tmp/syscg-restore-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/state";
  {
    Hierarchy h;
    Filesystem saved(h, fake_, log_, Options{{}, path, false});
    fake_.set_listener(&saved);
    auto web = saved.mkdir(kRootInode, "web", 0750, kUser).value().ino;
    auto sub = saved.mkdir(web, "sub", 0755, kRoot).value().ino;
    auto deny = saved.open(saved.lookup(web, "syscalls.deny").value().ino, O_WRONLY, kRoot).value();
    ASSERT_TRUE(saved.write(deny, "execve 300-310", kRoot));
    saved.release(deny);
    auto procs = saved.open(saved.lookup(sub, "cgroup.procs").value().ino, O_WRONLY, kRoot).value();
    ASSERT_TRUE(saved.write(procs, "3000", kRoot));
    saved.release(procs);
    auto depth = saved.open(saved.lookup(kRootInode, "cgroup.max.depth").value().ino, O_WRONLY, kRoot).value();
    ASSERT_TRUE(saved.write(depth, "2", kRoot));
    saved.release(depth);
  }
  auto state = load(path);
  ASSERT_TRUE(state && state.value()) << (state ? "no file" : state.error().message);
  Hierarchy h;
  Filesystem restored(h, fake_, log_);
  fake_.set_listener(&restored);
  ASSERT_TRUE(restored.restore(*state.value()));
  const auto web = restored.lookup(kRootInode, "web").value();
  EXPECT_EQ(web.attr.st_mode & 07777, 0750u);
  EXPECT_EQ(web.attr.st_uid, kUser.uid);
  const auto sub = restored.lookup(web.ino, "sub").value().ino;
  EXPECT_EQ(h.allowed(decode_inode(sub).group).value(), h.allowed(decode_inode(web.ino).group).value());
  EXPECT_FALSE(h.check(decode_inode(sub).group, 59));
  EXPECT_FALSE(h.check(decode_inode(sub).group, 305));
  EXPECT_EQ(h.group_of(3000), decode_inode(sub).group);
  EXPECT_EQ(h.info(kRootGroup).value().max_depth, 2);
  // The seam is told each re-adopted member's saved set (what its filters
  // enforce at least).
  ASSERT_TRUE(fake_.adopted.contains(3000));
  EXPECT_EQ(fake_.adopted[3000], h.allowed(decode_inode(sub).group).value());
  unlink(path.c_str());
  rmdir(dir);
}

TEST_F(FilesystemTest, StricterListsWhatMembersCannotUseOfTheirGroupsSet) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "1000"), 0);
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_EQ(read(web, "syscalls.stricter"), "");
  fake_.lost[1000] = grammar::parse_syscall_list("59 62-64", grammar::ListFile::deny).value();
  EXPECT_EQ(read(web, "syscalls.stricter"), "1000 59,62-64 tightened\n");
  ASSERT_EQ(write(web, "syscalls.deny", "62"), 0);  // only what the group allows counts
  EXPECT_EQ(read(web, "syscalls.stricter"), "1000 59,63-64 tightened\n");
  EXPECT_EQ(write(web, "syscalls.stricter", "1"), EACCES);
  fake_.exited.insert(1000);  // exited members are not listed
  EXPECT_EQ(read(web, "syscalls.stricter"), "");
}

TEST_F(FilesystemTest, TrappedCallsAreDecidedFromTheCurrentPolicyAndDenialsCounted) {
  sys::MemoryLog log;
  Hierarchy h;
  Filesystem fs(h, fake_, log, Options{{}, {}, true});
  fake_.set_listener(&fs);
  const auto web = fs.mkdir(kRootInode, "web", 0755, kRoot).value().ino;
  const auto write_to = [&](const char* file, const char* text) {
    auto hd = fs.open(fs.lookup(web, file).value().ino, O_WRONLY, kRoot).value();
    const bool ok = static_cast<bool>(fs.write(hd, text, kRoot));
    fs.release(hd);
    return ok;
  };
  const auto denied = [&] {
    auto hd = fs.open(fs.lookup(web, "syscalls.denied").value().ino, O_RDONLY, kRoot).value();
    auto text = fs.read(hd, 0, 4096).value();
    fs.release(hd);
    return text;
  };
  ASSERT_TRUE(write_to("cgroup.procs", "1000"));
  EXPECT_EQ(fs.trapped(1000, 59), std::optional<bool>(true));
  ASSERT_TRUE(write_to("syscalls.deny", "59"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fs.trapped(1000, 59), std::optional<bool>(false));
  EXPECT_EQ(fs.trapped(4000, 59), std::nullopt) << "not a member";
  EXPECT_EQ(denied(), "59 execve 5\n");
  const auto logged = log.lines();
  ASSERT_EQ(logged.size(), 3u) << "the 1st, 2nd and 4th denial";
  EXPECT_NE(logged[0].find("process 1000 in /web called 59 (execve)"), std::string::npos) << logged[0];
  ASSERT_TRUE(write_to("syscalls.allow", "59"));
  EXPECT_EQ(fs.trapped(1000, 59), std::optional<bool>(true));
  EXPECT_EQ(denied(), "59 execve 5\n") << "counts stay";
}

TEST_F(FilesystemTest, PolicyWritesWithoutMembersDoNotCallTheSeam) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "syscalls.deny", "1-10"), 0);
  EXPECT_TRUE(fake_.changes.empty());
}

TEST_F(FilesystemTest, BadWritesChangeNothing) {
  const auto web = mkdir(kRootInode, "web");
  const auto before = read(web, "syscalls.allow");
  EXPECT_EQ(write(web, "syscalls.deny", "1 foo"), EINVAL);
  EXPECT_EQ(write(web, "syscalls.deny", "1 512"), ERANGE);
  EXPECT_EQ(write(web, "syscalls.deny", std::string(4097, '1')), E2BIG);
  EXPECT_EQ(write(web, "cgroup.max.depth", "-1"), ERANGE);
  EXPECT_EQ(read(web, "syscalls.allow"), before);
  EXPECT_EQ(read(web, "cgroup.max.depth"), "max\n");
}

TEST_F(FilesystemTest, ExitedMembersLeaveAndDoNotBlockRmdir) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_EQ(fs_.rmdir(kRootInode, "web").error().code, Errc::busy);
  fake_.exited.insert(3000);
  EXPECT_EQ(read(web, "cgroup.procs"), "");
  EXPECT_EQ(read(web, "cgroup.events"), "populated 0\n");
  EXPECT_TRUE(fs_.rmdir(kRootInode, "web"));
}

TEST_F(FilesystemTest, ReadsServeASnapshotTakenAtOffsetZero) {
  const auto web = mkdir(kRootInode, "web");
  ASSERT_EQ(write(web, "syscalls.deny", "1"), 0);
  auto h = fs_.open(file(web, "syscalls.deny"), O_RDONLY, kRoot).value();
  EXPECT_EQ(fs_.read(h, 0, 1).value(), "1");
  ASSERT_EQ(write(web, "syscalls.deny", "2"), 0);
  EXPECT_EQ(fs_.read(h, 1, 100).value(), "\n");  // still the old snapshot
  EXPECT_EQ(fs_.read(h, 0, 100).value(), "1 2\n");
  EXPECT_EQ(fs_.read(h, 100, 100).value(), "");
  fs_.release(h);
}

TEST_F(FilesystemTest, PollReportsEventsChangesUntilReread) {
  const auto web = mkdir(kRootInode, "web");
  auto h = fs_.open(file(web, "cgroup.events"), O_RDONLY, kRoot).value();
  EXPECT_EQ(fs_.poll(h, nullptr).value() & POLLPRI, 0u);
  ASSERT_EQ(write(web, "cgroup.procs", "3000"), 0);
  EXPECT_NE(fs_.poll(h, nullptr).value() & POLLPRI, 0u);
  EXPECT_EQ(fs_.read(h, 0, 100).value(), "populated 1\n");
  EXPECT_EQ(fs_.poll(h, nullptr).value() & POLLPRI, 0u);
  fs_.release(h);
}

TEST_F(FilesystemTest, NamespaceErrors) {
  const auto web = mkdir(kRootInode, "web");
  mkdir(kRootInode, "other");
  EXPECT_EQ(fs_.mkdir(kRootInode, "web", 0755, kRoot).error().code, Errc::exists);
  EXPECT_EQ(fs_.mkdir(kRootInode, "cgroup.procs", 0755, kRoot).error().code, Errc::exists);
  EXPECT_EQ(fs_.mkdir(kRootInode, "cgroup.new", 0755, kRoot).error().code, Errc::invalid);
  EXPECT_EQ(fs_.create_file(web, "new").error().code, Errc::permission);
  EXPECT_EQ(fs_.unlink(web, "syscalls.deny").error().code, Errc::permission);
  EXPECT_EQ(fs_.rename(web, "syscalls.deny", web, "x", 0).error().code, Errc::permission);
  EXPECT_EQ(fs_.rename(kRootInode, "web", web, "x", 0).error().code, Errc::permission);
  EXPECT_EQ(fs_.rename(kRootInode, "web", kRootInode, "other", 0).error().code, Errc::exists);
  EXPECT_TRUE(fs_.rename(kRootInode, "web", kRootInode, "www", 0));
  EXPECT_EQ(fs_.lookup(kRootInode, "www").value().ino, web);
  EXPECT_EQ(fs_.rmdir(kRootInode, "nope").error().code, Errc::not_found);
  EXPECT_EQ(fs_.lookup(file(web, "syscalls.deny"), "x").error().code, Errc::not_dir);
}

TEST_F(FilesystemTest, NewGroupsBelongToTheirCreator) {
  const auto web = mkdir(kRootInode, "web", kUser);
  EXPECT_EQ(fs_.getattr(web).value().st_uid, kUser.uid);
  EXPECT_EQ(fs_.getattr(file(web, "cgroup.procs")).value().st_uid, kUser.uid);
  EXPECT_EQ(fs_.getattr(kRootInode).value().st_nlink, 3u);
}

TEST_F(FilesystemTest, ReaddirListsFilesThenGroups) {
  const auto web = mkdir(kRootInode, "web");
  mkdir(web, "b");
  mkdir(web, "a");
  auto h = fs_.opendir(web).value();
  std::vector<std::string> names;
  const auto entries = fs_.readdir(h, 0).value();
  for (const auto& e : entries) names.push_back(e.name);
  fs_.release(h);
  std::vector<std::string> want{".", ".."};
  for (const auto& f : kControlFiles) want.emplace_back(f.name);
  want.insert(want.end(), {"a", "b"});
  EXPECT_EQ(names, want);
}

}  // namespace
}  // namespace syscg::fs

namespace syscg::fs {
namespace {

State sample_state() {
  State s;
  GroupRecord root{.path = "/", .allowed = SyscallSet::all(), .max_depth = grammar::kUnlimited,
                   .max_descendants = 5, .dir = {0755, 0, 0}, .files = {}};
  for (auto& f : root.files) f = {0644, 0, 0};
  GroupRecord web = root;
  web.path = "/web site";
  web.max_descendants = grammar::kUnlimited;
  web.max_depth = 2;
  (void)web.allowed.reset(59);
  web.dir = {0750, 1000, 100};
  GroupRecord php = web;
  php.path = "/web site/php";
  (void)php.allowed.reset_range(300, 310);
  s.groups = {root, web, php};
  s.members = {{4242, 123456, "/web site/php"}};
  return s;
}

TEST(FilesystemState, EncodesAndDecodesLosslessly) {
  const auto s = sample_state();
  const auto text = encode(s);
  auto back = decode(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(encode(back.value()), text);
  ASSERT_EQ(back.value().groups.size(), 3u);
  EXPECT_EQ(back.value().groups[1].path, "/web site");
  EXPECT_FALSE(back.value().groups[2].allowed.test(305));
  EXPECT_EQ(back.value().groups[1].dir.uid, 1000u);
  EXPECT_EQ(back.value().members[0].start_time, 123456u);
}

TEST(FilesystemState, CorruptFilesAreRefusedNeverHalfRead) {
  const auto text = encode(sample_state());
  EXPECT_FALSE(decode(text.substr(0, text.size() / 2)));            // cut short
  std::string flipped = text;
  flipped[text.find("group") + 10] ^= 1;
  EXPECT_FALSE(decode(flipped));                                     // checksum
  EXPECT_FALSE(decode("garbage\n"));                                 // header
  auto wider = sample_state();
  (void)wider.groups[2].allowed.set(59);                             // wider than its parent
  EXPECT_FALSE(decode(encode(wider)));
  auto orphan = sample_state();
  orphan.groups.erase(orphan.groups.begin() + 1);                    // parent missing
  orphan.members.clear();
  EXPECT_FALSE(decode(encode(orphan)));
  auto lost = sample_state();
  lost.members[0].path = "/nowhere";
  EXPECT_FALSE(decode(encode(lost)));
}

// A file written before syscalls.stricter and syscalls.denied existed lists
// 7 files per group; the two new read-only files get 0444 and the
// directory's owner.
TEST(FilesystemState, OlderFilesWithFewerControlFilesStillLoad) {
  std::string body = "syscg-state 1\n";
  const std::string seven = " 644:0:0 644:0:0 644:0:0 644:0:0 444:0:0 644:0:0 644:0:0";
  std::string all(kSyscallWidth / 4, 'f');
  body += "group " + all + " max max 755:0:0" + seven + " /\n";
  body += "group " + all + " max max 750:1000:1000" + seven + " /web site\n";
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, as the format says
  for (unsigned char c : body) h = (h ^ c) * 0x100000001b3ULL;
  auto back = decode(body + fmt::format("end {:016x}\n", h));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back.value().groups.size(), 2u);
  EXPECT_EQ(back.value().groups[1].path, "/web site");
  EXPECT_EQ(back.value().groups[1].files[8].mode, 0444u);
  EXPECT_EQ(back.value().groups[1].files[8].uid, 1000u);
  EXPECT_EQ(back.value().groups[1].files[6].mode, 0644u);
}

TEST(FilesystemState, SaveAndLoadAFile) {
  char dir[] = "/tmp/syscg-state-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/state";
  auto none = load(path);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none.value());
  ASSERT_TRUE(save(path, sample_state()));
  auto loaded = load(path);
  ASSERT_TRUE(loaded && loaded.value());
  EXPECT_EQ(encode(*loaded.value()), encode(sample_state()));
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace syscg::fs
