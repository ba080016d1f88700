// Named sets (core/syscall_groups.h): lookups, nesting, and every set's
// entries against the installed `systemd-analyze syscall-filter`.
#include "core/syscall_groups.h"
#include "core/syscall_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace syscg {
namespace {

unsigned nr(std::string_view name) {
  const auto n = syscall_table::number(name);
  EXPECT_TRUE(n.has_value()) << name;
  return n.value_or(0);
}

TEST(SyscallGroupsTest, MountHasTheMountCalls) {
  const auto mount = syscall_groups::lookup("@mount");
  ASSERT_TRUE(mount.has_value());
  for (const char* name : {"mount", "umount2", "pivot_root", "chroot", "fsopen", "move_mount", "mount_setattr"})
    EXPECT_TRUE(mount->test(nr(name))) << name;
  EXPECT_FALSE(mount->test(nr("read")));
  EXPECT_FALSE(mount->test(nr("execve")));
}

TEST(SyscallGroupsTest, NestedSetsAreResolved) {
  const auto service = syscall_groups::lookup("@system-service");
  const auto basic_io = syscall_groups::lookup("@basic-io");
  const auto process = syscall_groups::lookup("@process");
  ASSERT_TRUE(service && basic_io && process);
  EXPECT_TRUE(service->test(nr("read")));    // from @basic-io
  EXPECT_TRUE(service->test(nr("execve")));  // from @default
  EXPECT_TRUE(service->test(nr("capget")));  // its own entry
  EXPECT_TRUE(basic_io->is_subset_of(*service));
  EXPECT_TRUE(process->is_subset_of(*service));
  EXPECT_FALSE(service->test(nr("reboot")));
  EXPECT_FALSE(service->test(nr("init_module")));
  // @privileged names @chown, @clock, @module, @raw-io, @reboot and @swap.
  const auto privileged = syscall_groups::lookup("@privileged");
  ASSERT_TRUE(privileged);
  for (const char* name : {"chown", "settimeofday", "init_module", "ioperm", "reboot", "swapon", "acct"})
    EXPECT_TRUE(privileged->test(nr(name))) << name;
}

TEST(SyscallGroupsTest, EveryNestedNameIsASetAndEverySetResolves) {
  const auto names = syscall_groups::names();
  for (const auto name : names) {
    SCOPED_TRACE(std::string(name));
    const auto entries = syscall_groups::entries(name);
    EXPECT_FALSE(entries.empty());
    const auto set = syscall_groups::lookup(name);
    ASSERT_TRUE(set.has_value());
    for (const auto entry : entries) {
      if (entry.starts_with('@')) {
        EXPECT_TRUE(std::ranges::binary_search(names, entry)) << entry;
        EXPECT_TRUE(syscall_groups::lookup(entry)->is_subset_of(*set)) << entry;
      } else if (const auto n = syscall_table::number(entry)) {
        EXPECT_TRUE(set->test(*n)) << entry;
      }
    }
  }
}

TEST(SyscallGroupsTest, ForeignNamesStayInEntriesButNotInTheSet) {
  const auto entries = syscall_groups::entries("@basic-io");
  EXPECT_NE(std::ranges::find(entries, "_llseek"), entries.end());  // 32-bit only
  EXPECT_FALSE(syscall_table::number("_llseek").has_value());
  const auto basic_io = syscall_groups::lookup("@basic-io");
  ASSERT_TRUE(basic_io);
  unsigned native = 0;
  for (const auto entry : entries) native += syscall_table::number(entry).has_value() ? 1 : 0;
  EXPECT_EQ(basic_io->count(), native);
}

TEST(SyscallGroupsTest, KnownCoversTheOtherSets) {
  const auto known = syscall_groups::lookup("@known");
  ASSERT_TRUE(known);
  // systemd's @known is the kernel's current list: it lacks nfsservctl
  // (180, removed in Linux 3.1), which @privileged still names.
  auto known_and_180 = *known;
  ASSERT_FALSE(known_and_180.test(nr("nfsservctl")));
  ASSERT_TRUE(known_and_180.set(nr("nfsservctl")));
  for (const auto name : syscall_groups::names())
    EXPECT_TRUE(syscall_groups::lookup(name)->is_subset_of(known_and_180)) << name;
  EXPECT_TRUE(known->test(nr("execve")));
  EXPECT_TRUE(known->test(nr("read")));
}

TEST(SyscallGroupsTest, NamesAreSortedAndComplete) {
  const auto names = syscall_groups::names();
  EXPECT_TRUE(std::ranges::is_sorted(names));
  EXPECT_EQ(std::ranges::adjacent_find(names), names.end());
  for (const char* name :
       {"@aio",         "@basic-io",   "@chown",    "@clock",   "@cpu-emulation", "@debug",   "@default",
        "@file-system", "@io-event",   "@ipc",      "@keyring", "@known",         "@memlock", "@module",
        "@mount",       "@network-io", "@obsolete", "@pkey",    "@privileged",    "@process", "@raw-io",
        "@reboot",      "@resources",  "@setuid",   "@signal",  "@swap",          "@sync",    "@system-service",
        "@timer"})
    EXPECT_TRUE(std::ranges::binary_search(names, std::string_view(name))) << name;
}

TEST(SyscallGroupsTest, UnknownNamesAreNullopt) {
  for (const char* name : {"", "@", "mount", "@Mount", "@mount ", "@nosuch", "@mount,@aio", "system-service"}) {
    EXPECT_FALSE(syscall_groups::lookup(name).has_value()) << name;
    EXPECT_TRUE(syscall_groups::entries(name).empty()) << name;
  }
}

// ---------------------------------------------------------------- systemd

// `systemd-analyze syscall-filter`: "@name" at the start of a line, its
// description and entries indented by four spaces ("# ..." the
// description), a blank line after each set; "#" lines at the start of a
// line follow the sets (ungrouped and unlisted calls).
std::map<std::string, std::vector<std::string>> parse_listing(const std::string& text) {
  std::map<std::string, std::vector<std::string>> sets;
  std::vector<std::string>* current = nullptr;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("@")) {
      current = &sets[line];
    } else if (line.empty() || !line.starts_with("    ")) {
      current = nullptr;
    } else if (current != nullptr && !line.starts_with("    #")) {
      current->push_back(line.substr(4));
    }
  }
  return sets;
}

TEST(SyscallGroupsTest, EverySetIsWhatSystemdAnalyzeLists) {
  // timeout(1) answers 127 when it cannot find the command.
  FILE* pipe = popen("timeout 30 systemd-analyze syscall-filter 2>/dev/null", "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  const int status = pclose(pipe);
  ASSERT_NE(status, -1);
  ASSERT_TRUE(WIFEXITED(status)) << "systemd-analyze: wait status " << status;
  if (WEXITSTATUS(status) == 127) GTEST_SKIP() << "systemd-analyze is not installed (Debian's systemd has it)";
  ASSERT_EQ(WEXITSTATUS(status), 0) << "systemd-analyze syscall-filter failed (124: timed out)";

  const auto listed = parse_listing(text);
  std::vector<std::string> listed_names;
  for (const auto& [name, entries] : listed) listed_names.push_back(name);
  const auto names = syscall_groups::names();
  EXPECT_EQ(listed_names, std::vector<std::string>(names.begin(), names.end()));
  for (const auto& [name, entries] : listed) {
    SCOPED_TRACE(name);
    const auto ours = syscall_groups::entries(name);
    EXPECT_EQ(std::vector<std::string>(ours.begin(), ours.end()), entries);
  }
}

}  // namespace
}  // namespace syscg
