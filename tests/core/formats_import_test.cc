// syscg::formats, import: from_oci on deny-list and allow-list profiles,
// argument conditions under refuse / widen / narrow, Docker's includes and
// excludes, its older forms, bad input, and Docker's own default profile.
#include "core/formats/oci.h"
#include "core/syscall_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace syscg::formats {
namespace {

unsigned nr(std::string_view name) {
  const auto n = syscall_table::number(name);
  EXPECT_TRUE(n) << name;
  return n.value_or(0);
}

Imported ok(std::string_view json, const ImportOptions& options = {}) {
  auto r = from_oci(json, options);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? std::move(r).value() : Imported{};
}

ImportOptions with(Conditional c, std::optional<std::string> kernel = std::nullopt,
                   std::vector<std::string> caps = {}) {
  ImportOptions o;
  o.conditional = c;
  o.kernel = std::move(kernel);
  o.caps = std::move(caps);
  return o;
}

bool mentions(const std::vector<std::string>& lines, std::string_view what) {
  return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.find(what) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

TEST(FormatsImport, ADenyListProfileDeniesItsRulesWithTheirErrnos) {
  const auto p = ok(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["uname", "ptrace"], "action": "SCMP_ACT_ERRNO"},
      {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
      {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})");
  SyscallSet want = SyscallSet::all();
  for (auto n : {"uname", "ptrace", "getppid", "mount"}) ASSERT_TRUE(want.reset(nr(n)));
  EXPECT_EQ(p.allowed, want);
  EXPECT_EQ(p.errnos.of(nr("uname")), EPERM);
  EXPECT_EQ(p.errnos.of(nr("getppid")), ENOSYS);
  EXPECT_EQ(p.errnos.of(nr("mount")), EACCES);
  EXPECT_EQ(p.errnos.numbers().count(), 2U);
  EXPECT_EQ(joined(p.dropped), "clone3: allowed by the profile, but syscg's filter answers ENOSYS for it always\n");
}

TEST(FormatsImport, AnAllowListProfileDeniesTheRestWithDefaultErrnoRet) {
  const auto p = ok(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]})");
  SyscallSet want;
  for (auto n : {"read", "write", "exit_group", "restart_syscall"}) ASSERT_TRUE(want.set(nr(n)));
  EXPECT_EQ(p.allowed, want);
  EXPECT_EQ(p.errnos.of(nr("execve")), ENOSYS);
  EXPECT_EQ(p.errnos.of(500), ENOSYS);  // no name: the default, as libseccomp's filter does
  EXPECT_TRUE(p.dropped.empty()) << joined(p.dropped);
}

TEST(FormatsImport, KillLikeActionsDenyWithEpermAndSaySo) {
  const auto p = ok(R"({"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["write"], "action": "SCMP_ACT_LOG"},
      {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 5},
      {"names": ["uname"], "action": "SCMP_ACT_TRAP"}]})");
  EXPECT_TRUE(p.allowed.test(nr("read")));
  EXPECT_TRUE(p.allowed.test(nr("write")));
  EXPECT_FALSE(p.allowed.test(nr("uname")));
  EXPECT_EQ(p.errnos.of(nr("execve")), EPERM);
  EXPECT_EQ(p.errnos.of(nr("ptrace")), ENOSYS);
  EXPECT_TRUE(mentions(p.dropped, "defaultAction SCMP_ACT_KILL_PROCESS: denied with EPERM")) << joined(p.dropped);
  EXPECT_TRUE(mentions(p.dropped, "write: SCMP_ACT_LOG: allowed without logging")) << joined(p.dropped);
  EXPECT_TRUE(mentions(p.dropped, "uname: SCMP_ACT_TRAP: denied with EPERM")) << joined(p.dropped);
  EXPECT_EQ(p.dropped.size(), 4U) << joined(p.dropped);
}

constexpr std::string_view kConditional = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    {"names": ["read", "personality"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
     "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]},
    {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]})";

TEST(FormatsImport, ConditionalRulesAreRefusedByDefaultAndEachIsListed) {
  const auto r = from_oci(kConditional, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid);
  const std::string& m = r.error().message;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 3) << m;  // a first line, then one per rule
  EXPECT_NE(m.find("syscalls[1] socket: SCMP_ACT_ALLOW if arg0 == 2"), std::string::npos) << m;
  EXPECT_NE(m.find("syscalls[2] clone: SCMP_ACT_ALLOW if arg0 & 0x7e020000 == 0"), std::string::npos) << m;
  EXPECT_NE(m.find("syscalls[3] personality: SCMP_ACT_ERRNO if arg0 != 8"), std::string::npos) << m;
  EXPECT_EQ(m.find("uname"), std::string::npos) << m;  // ERRNO(EPERM) as the default: changes nothing
}

TEST(FormatsImport, WidenAllowsConditionalAllowRulesAndIgnoresConditionalDenials) {
  const auto p = ok(kConditional, with(Conditional::widen));
  EXPECT_TRUE(p.allowed.test(nr("socket")));
  EXPECT_TRUE(p.allowed.test(nr("clone")));
  EXPECT_TRUE(p.allowed.test(nr("personality")));
  EXPECT_FALSE(p.allowed.test(nr("uname")));
  EXPECT_EQ(p.dropped.size(), 3U) << joined(p.dropped);
  EXPECT_TRUE(mentions(p.dropped, "socket: SCMP_ACT_ALLOW if arg0 == 2: applied whatever the arguments (widen)"));
  EXPECT_TRUE(mentions(p.dropped, "personality: SCMP_ACT_ERRNO if arg0 != 8: ignored (widen)"));
}

TEST(FormatsImport, NarrowDeniesConditionalAllowRulesAndAppliesConditionalDenials) {
  const auto p = ok(kConditional, with(Conditional::narrow));
  EXPECT_FALSE(p.allowed.test(nr("socket")));
  EXPECT_FALSE(p.allowed.test(nr("clone")));
  EXPECT_FALSE(p.allowed.test(nr("personality")));
  EXPECT_EQ(p.errnos.of(nr("personality")), EINVAL);
  EXPECT_TRUE(p.allowed.test(nr("read")));
  EXPECT_TRUE(mentions(p.dropped, "socket: SCMP_ACT_ALLOW if arg0 == 2: ignored (narrow)"));
  EXPECT_TRUE(mentions(p.dropped, "personality: SCMP_ACT_ERRNO if arg0 != 8: applied whatever the arguments (narrow)"));
}

TEST(FormatsImport, ADefaultAllowProfileWithAConditionalDenialStaysAllowedUnderWiden) {
  constexpr std::string_view json = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}]})";
  EXPECT_TRUE(ok(json, with(Conditional::widen)).allowed.full());
  EXPECT_FALSE(ok(json, with(Conditional::narrow)).allowed.test(nr("kill")));
}

constexpr std::string_view kDockerish = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
              {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
  "syscalls": [
    {"names": ["read", "_llseek", "fcntl64"], "action": "SCMP_ACT_ALLOW"},
    {"name": "write", "action": "SCMP_ACT_ALLOW", "args": []},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["clone3"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["uname"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
    {"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
    {"names": ["io_uring_setup"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "6.6"}},
    {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT", "CAP_SYS_ADMIN"]}}]})";

TEST(FormatsImport, IncludesAndExcludesFollowCapsArchesAndKernel) {
  const auto plain = ok(kDockerish, with(Conditional::refuse, "5.15"));
  EXPECT_TRUE(plain.allowed.test(nr("read")));
  EXPECT_TRUE(plain.allowed.test(nr("write")));  // the older singular "name"
  EXPECT_TRUE(plain.allowed.test(nr("ptrace")));
  EXPECT_FALSE(plain.allowed.test(nr("mount")));
  EXPECT_FALSE(plain.allowed.test(nr("clone3")));
  EXPECT_EQ(plain.errnos.of(nr("clone3")), ENOSYS);
  EXPECT_TRUE(plain.allowed.test(nr("arch_prctl")));
  EXPECT_FALSE(plain.allowed.test(nr("uname")));
  EXPECT_FALSE(plain.allowed.test(nr("getppid")));
  EXPECT_TRUE(plain.allowed.test(nr("io_uring_setup")));
  EXPECT_FALSE(plain.allowed.test(nr("reboot")));
  EXPECT_TRUE(mentions(plain.dropped, "syscalls[0]: names unknown on x86_64, ignored: _llseek, fcntl64"));
  EXPECT_TRUE(mentions(plain.dropped, "architectures SCMP_ARCH_X86, SCMP_ARCH_X32: syscg denies"));
  EXPECT_FALSE(mentions(plain.dropped, "SCMP_ARCH_ARM"));

  const auto old_kernel = ok(kDockerish, with(Conditional::refuse, "4.4"));
  EXPECT_FALSE(old_kernel.allowed.test(nr("ptrace")));
  const auto new_kernel = ok(kDockerish, with(Conditional::refuse, "6.6.0-1-amd64"));
  EXPECT_FALSE(new_kernel.allowed.test(nr("io_uring_setup")));
  const auto no_kernel = ok(kDockerish);  // every minKernel met
  EXPECT_TRUE(no_kernel.allowed.test(nr("ptrace")));
  EXPECT_FALSE(no_kernel.allowed.test(nr("io_uring_setup")));

  const auto admin = ok(kDockerish, with(Conditional::refuse, "5.15", {"CAP_SYS_ADMIN"}));
  EXPECT_TRUE(admin.allowed.test(nr("mount")));
  EXPECT_TRUE(admin.allowed.test(nr("clone3")));
  EXPECT_TRUE(mentions(admin.dropped, "clone3: allowed by the profile, but syscg's filter answers ENOSYS"));
  EXPECT_FALSE(admin.allowed.test(nr("reboot")));  // includes.caps: all of them
  const auto both = ok(kDockerish, with(Conditional::refuse, "5.15", {"sys_admin", "SYS_BOOT"}));
  EXPECT_TRUE(both.allowed.test(nr("reboot")));
}

TEST(FormatsImport, AWholeOciConfigIsReadThroughItsLinuxSeccomp) {
  const auto p = ok(R"({"ociVersion": "1.0.2", "linux": {"seccomp":
      {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO"}]}}})");
  EXPECT_FALSE(p.allowed.test(nr("uname")));
  EXPECT_EQ(p.allowed.count(), kSyscallWidth - 1);
}

TEST(FormatsImport, RestartSyscallIsAlwaysAllowed) {
  const auto p = ok(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["restart_syscall"], "action": "SCMP_ACT_KILL"}]})");
  EXPECT_TRUE(p.allowed.test(kRestartSyscall));
  EXPECT_EQ(p.allowed.count(), 1U);
}

TEST(FormatsImport, BadInputIsInvalidWithOneLine) {
  const std::vector<std::string> bad{
      "",
      "{",
      "[]",
      "\"text\"",
      R"({"syscalls": []})",                    // no defaultAction
      R"({"defaultAction": "SCMP_ACT_FROB"})",  // unknown action
      R"({"defaultAction": 3})",                // not a string
      R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 0})",
      R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 4096})",
      R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "EPERM"})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [3]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"]}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "uname", "action": "SCMP_ACT_ERRNO"}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [1], "action": "SCMP_ACT_ERRNO"}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "args": 1}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "args": [{"op": 7}]}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "new"}}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": "CAP_X"}}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "excludes": []}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [1]})",
      R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": [2]}]})",
  };
  for (const auto& json : bad) {
    SCOPED_TRACE(json);
    const auto r = from_oci(json, with(Conditional::widen));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid);
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  }
  const auto r = from_oci(R"({"defaultAction": "SCMP_ACT_ALLOW"})", with(Conditional::refuse, "five"));
  EXPECT_TRUE(r);  // no rule asks for the kernel
  EXPECT_FALSE(from_oci(kDockerish, with(Conditional::refuse, "five")));
}

// ---------------------------------------------------------------- Docker's default profile

std::string docker_default() {
  std::ifstream in(std::string(FORMATS_TEST_DIR) + "/data/docker-default.json");
  EXPECT_TRUE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FormatsDockerDefault, IsRefusedWithoutAChoiceForItsConditionalRules) {
  const auto r = from_oci(docker_default(), with(Conditional::refuse, "6.1"));
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("personality: SCMP_ACT_ALLOW if arg0 == 0"), std::string::npos) << m;
  EXPECT_NE(m.find("personality: SCMP_ACT_ALLOW if arg0 == 0xffffffff"), std::string::npos) << m;
  EXPECT_NE(m.find("socket: SCMP_ACT_ALLOW if arg0 < 38"), std::string::npos) << m;
  EXPECT_NE(m.find("clone: SCMP_ACT_ALLOW if arg0 & 0x7e020000 == 0"), std::string::npos) << m;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 9) << m;  // 3 socket, 5 personality, 1 clone (amd64)
}

TEST(FormatsDockerDefault, WithoutCapSysAdminDeniesMountAndGivesClone3Enosys) {
  const auto p = ok(docker_default(), with(Conditional::narrow, "6.1"));
  for (auto n : {"mount", "umount2", "unshare", "setns", "bpf", "reboot", "kexec_load", "init_module", "personality",
                 "clone", "socket", "chroot", "iopl", "io_uring_setup", "kcmp"})
    EXPECT_FALSE(p.allowed.test(nr(n))) << n;
  for (auto n : {"read", "write", "execve", "openat", "arch_prctl", "modify_ldt", "futex", "ptrace"})
    EXPECT_TRUE(p.allowed.test(nr(n))) << n;
  EXPECT_EQ(p.errnos.of(nr("clone3")), ENOSYS);
  EXPECT_EQ(p.errnos.of(nr("mount")), EPERM);
  EXPECT_EQ(p.errnos.numbers().count(), 1U);  // clone3 only
  EXPECT_TRUE(mentions(p.dropped, "personality: SCMP_ACT_ALLOW if arg0 == 0: ignored (narrow)")) << joined(p.dropped);
  EXPECT_TRUE(mentions(p.dropped, "architectures SCMP_ARCH_X86, SCMP_ARCH_X32")) << joined(p.dropped);
  EXPECT_TRUE(mentions(p.dropped, "names unknown on x86_64")) << joined(p.dropped);

  // ptrace needs 4.8 (includes.minKernel).
  EXPECT_FALSE(ok(docker_default(), with(Conditional::narrow, "4.4")).allowed.test(nr("ptrace")));

  const auto wide = ok(docker_default(), with(Conditional::widen, "6.1"));
  for (auto n : {"personality", "clone", "socket"}) EXPECT_TRUE(wide.allowed.test(nr(n))) << n;
  EXPECT_FALSE(wide.allowed.test(nr("mount")));
  EXPECT_EQ(wide.errnos.of(nr("clone3")), ENOSYS);
}

TEST(FormatsDockerDefault, WithCapSysAdminAllowsMountAndTheUnconditionalClone) {
  const auto p = ok(docker_default(), with(Conditional::narrow, "6.1", {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}));
  for (auto n : {"mount", "umount2", "unshare", "setns", "clone", "clone3", "ptrace", "process_vm_readv"})
    EXPECT_TRUE(p.allowed.test(nr(n))) << n;
  EXPECT_FALSE(p.allowed.test(nr("reboot")));
  EXPECT_TRUE(mentions(p.dropped, "clone3: allowed by the profile")) << joined(p.dropped);
}

TEST(FormatsDockerDefault, ItsExportIsDockersListOfAllowedNames) {
  // Imported and exported again, the profile keeps every x86_64 name Docker
  // allows (narrowed): the names are the same, the form is syscg's.
  const auto p = ok(docker_default(), with(Conditional::narrow, "6.1"));
  const auto again = ok(to_oci(p.allowed, p.errnos));
  EXPECT_EQ(again.allowed & ~SyscallSet{}, p.allowed & again.allowed);
  EXPECT_TRUE(again.allowed.is_subset_of(p.allowed));
  for (unsigned n : p.allowed) {
    if (syscall_table::name(n)) {
      EXPECT_TRUE(again.allowed.test(n)) << n;
    }
  }
}

}  // namespace
}  // namespace syscg::formats
