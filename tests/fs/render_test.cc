// Unit tests of the control files' text (fs/render.h).
#include "fs/render.h"

#include "core/grammar.h"

#include <gtest/gtest.h>

namespace syscg::fs {
namespace {

TEST(FilesystemRender, StatEventsAndProcs) {
  GroupInfo info;
  info.nr_descendants = 3;
  info.nr_members = 2;
  EXPECT_EQ(render::stat(info), "nr_descendants 3\nnr_members 2\n");
  EXPECT_EQ(render::events(true), "populated 1\n");
  EXPECT_EQ(render::events(false), "populated 0\n");
  const std::vector<Pid> members{7, 42};
  EXPECT_EQ(render::procs(members), "7\n42\n");
  EXPECT_EQ(render::procs({}), "");
}

TEST(FilesystemRender, StricterListsEachLossOfEachMember) {
  const auto numbers = grammar::parse_syscall_list("59 62-64", grammar::ListFile::deny).value();
  const auto one = grammar::parse_syscall_list("1", grammar::ListFile::deny).value();
  const std::vector<render::MemberLosses> members{{1000, {{numbers, "tightened"}, {one, "own-listener"}}}, {1001, {}}};
  EXPECT_EQ(render::stricter(members), "1000 59,62-64 tightened\n1000 1 own-listener\n");
}

TEST(FilesystemRender, DeniedNamesNumbers) {
  EXPECT_EQ(render::denied({{59, 5}, {0, 1}}), "0 read 1\n59 execve 5\n");
  EXPECT_EQ(render::denied({}), "");
}

TEST(FilesystemRender, DenialLogLine) {
  EXPECT_EQ(render::denial_line(1000, "/web", 59, 4),
            "denied: process 1000 in /web called 59 (execve); 4 denial(s) of it there");
}

}  // namespace
}  // namespace syscg::fs
