// Integration tests of the CLI's readers: `syscg tree`, `syscg show GROUP`
// and `syscg ps [PID...]` against a real mount with real members (victims
// moved in), text and --json output, and their exit statuses; and the
// parsers of enforcer/cli/mount_reader.h on texts the mount does not write
// yet ("NR:ERRNO") or never should (garbage).
#include "enforcer/cli/commands.h"
#include "enforcer/cli/mount_reader.h"
#include "tests/support/enforcer_fixture.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace syscg::test {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::size_t indent(const std::string& line) { return line.find_first_not_of(' '); }

// stderr only, and it must be one "syscg: " line.
void expect_one_error_line(const RunResult& r, const std::string& mentions) {
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_TRUE(r.output.starts_with("syscg: ")) << r.output;
  EXPECT_NE(r.output.find(mentions), std::string::npos) << r.output;
}

class CliTest : public EnforcerTest {
 protected:
  RunResult syscg(const std::string& args) { return sh("timeout 20 " + syscg_binary() + " " + args + " 2>&1"); }
  RunResult syscg_stderr(const std::string& args) {
    return sh("timeout 20 " + syscg_binary() + " " + args + " 2>&1 >/dev/null");
  }
  nlohmann::json json(const std::string& args) {
    const auto r = sh("timeout 20 " + syscg_binary() + " " + args + " --json");
    EXPECT_EQ(r.status, 0) << r.output;
    return nlohmann::json::parse(r.output, nullptr, false);
  }
};

TEST_F(CliTest, TreeListsEveryGroupWithItsMembersAndDenials) {
  mkgroup("web", "getppid");
  mkgroup("web/php");
  mkgroup("db");
  Victim a({"serve"}), b({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_EQ(b.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "web");
  ASSERT_MOVED(b.pid(), "web/php");
  EXPECT_EQ(a.ask("getppid"), "getppid EPERM");
  EXPECT_EQ(a.ask("getppid"), "getppid EPERM");
  const std::string pa = std::to_string(a.pid()), pb = std::to_string(b.pid());

  const auto r = syscg("tree -m .");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto lines = lines_of(r.output);
  ASSERT_EQ(lines.size(), 5u) << r.output;
  EXPECT_EQ(words(lines[0]), (std::vector<std::string>{"GROUP", "DENIED", "MEMBERS"}));
  EXPECT_EQ(words(lines[1]), (std::vector<std::string>{"/", "0"}));
  EXPECT_EQ(words(lines[2]), (std::vector<std::string>{"db", "0"}));
  EXPECT_EQ(words(lines[3]), (std::vector<std::string>{"web", "2", pa}));
  EXPECT_EQ(words(lines[4]), (std::vector<std::string>{"php", "0", pb}));
  EXPECT_EQ(indent(lines[1]), 0u);
  EXPECT_EQ(indent(lines[2]), 2u);
  EXPECT_EQ(indent(lines[3]), 2u);
  EXPECT_EQ(indent(lines[4]), 4u);

  const auto tree = json("tree -m .");
  ASSERT_TRUE(tree.is_object()) << tree;
  EXPECT_EQ(tree["path"], "/");
  EXPECT_EQ(tree["denied"], 0);
  ASSERT_EQ(tree["children"].size(), 2u) << tree;
  EXPECT_EQ(tree["children"][0]["path"], "/db");
  const auto& web = tree["children"][1];
  EXPECT_EQ(web["path"], "/web");
  EXPECT_EQ(web["denied"], 2);
  EXPECT_EQ(web["members"], nlohmann::json::array({a.pid()}));
  ASSERT_EQ(web["children"].size(), 1u) << tree;
  EXPECT_EQ(web["children"][0]["path"], "/web/php");
  EXPECT_EQ(web["children"][0]["members"], nlohmann::json::array({b.pid()}));
  EXPECT_EQ(web["children"][0]["children"], nlohmann::json::array());
}

TEST_F(CliTest, ShowNamesDeniedNumbersWarningsStricterMembersAndDenials) {
  mkgroup("w", "getppid");
  Victim v({"serve"});
  ASSERT_EQ(v.read_line(), "ready");
  ASSERT_MOVED(v.pid(), "w");                // its first restriction: getppid is routed
  ASSERT_EQ(deny("w", "uname"), 0);          // a second filter: ERRNO, for good
  ASSERT_EQ(allow("w", "uname"), 0);         // so it is stricter than its group
  ASSERT_EQ(deny("w", "clock_gettime"), 0);  // a vdso warning
  EXPECT_EQ(v.ask("getppid"), "getppid EPERM");
  const std::string pid = std::to_string(v.pid());

  const auto r = syscg("show -m . w");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto lines = lines_of(r.output);
  const auto has = [&](const std::string& line) { return std::ranges::find(lines, line) != lines.end(); };
  EXPECT_TRUE(has("group: /w")) << r.output;
  EXPECT_TRUE(has("members: " + pid)) << r.output;
  EXPECT_TRUE(has("denied numbers: 2")) << r.output;
  EXPECT_TRUE(has("  110 getppid EPERM")) << r.output;
  EXPECT_TRUE(has("  228 clock_gettime EPERM")) << r.output;
  EXPECT_TRUE(has("stricter: 1")) << r.output;
  EXPECT_TRUE(has("  " + pid + " 63 tightened")) << r.output;
  EXPECT_TRUE(has("denials: 1")) << r.output;
  EXPECT_TRUE(has("  110 getppid 1")) << r.output;
  EXPECT_NE(r.output.find("\n  vdso 228 "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\n  stricter " + pid + " "), std::string::npos) << r.output;

  const auto j = json("show -m . /w/");
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_EQ(j["path"], "/w");
  EXPECT_EQ(j["members"], nlohmann::json::array({v.pid()}));
  ASSERT_EQ(j["deny"].size(), 2u) << j;
  EXPECT_EQ(j["deny"][0], (nlohmann::json{{"nr", 110}, {"name", "getppid"}, {"errno", "EPERM"}}));
  EXPECT_EQ(j["deny"][1]["name"], "clock_gettime");
  ASSERT_FALSE(j["warnings"].empty()) << j;
  EXPECT_EQ(j["warnings"][0]["tag"], "vdso");
  EXPECT_EQ(j["warnings"][0]["subject"], "228");
  ASSERT_EQ(j["stricter"].size(), 1u) << j;
  EXPECT_EQ(j["stricter"][0],
            (nlohmann::json{{"pid", v.pid()}, {"numbers", {63}}, {"ranges", "63"}, {"reason", "tightened"}}));
  EXPECT_EQ(j["denials"], nlohmann::json::parse(R"([{"nr": 110, "name": "getppid", "count": 1}])"));

  // The root: no policy, nothing listed.
  const auto root = json("show -m . /");
  EXPECT_EQ(root["path"], "/");
  EXPECT_EQ(root["deny"], nlohmann::json::array());
}

TEST_F(CliTest, PsFindsEachProcessGroup) {
  mkgroup("w");
  mkgroup("w/x");
  Victim a({"serve"}), b({"serve"});
  ASSERT_EQ(a.read_line(), "ready");
  ASSERT_EQ(b.read_line(), "ready");
  ASSERT_MOVED(a.pid(), "w");
  ASSERT_MOVED(b.pid(), "w/x");
  const std::string pa = std::to_string(a.pid()), pb = std::to_string(b.pid()), self = std::to_string(getpid());

  auto r = syscg("ps -m . " + pb + " " + self + " " + pa);
  ASSERT_EQ(r.status, 0) << r.output;
  auto lines = lines_of(r.output);
  ASSERT_EQ(lines.size(), 4u) << r.output;
  EXPECT_EQ(words(lines[0]), (std::vector<std::string>{"PID", "GROUP"}));
  EXPECT_EQ(words(lines[1]), (std::vector<std::string>{pb, "/w/x"}));
  EXPECT_EQ(words(lines[2]), (std::vector<std::string>{self, "/"}));  // in no group
  EXPECT_EQ(words(lines[3]), (std::vector<std::string>{pa, "/w"}));

  // Without PIDs: every member, by pid.
  const auto all = json("ps -m .");
  auto expected = nlohmann::json::array({{{"pid", a.pid()}, {"group", "/w"}}, {{"pid", b.pid()}, {"group", "/w/x"}}});
  if (b.pid() < a.pid()) std::swap(expected[0], expected[1]);
  EXPECT_EQ(all, expected);

  // A PID that names no process: the others, then one error line, status 1.
  const auto missing = sh("timeout 20 " + syscg_binary() + " ps -m . " + pa + " 999999999 --json 2>/dev/null");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(nlohmann::json::parse(missing.output, nullptr, false),
            nlohmann::json::array({{{"pid", a.pid()}, {"group", "/w"}}}));
  r = syscg_stderr("ps -m . " + pa + " 999999999");
  EXPECT_EQ(r.status, 1);
  expect_one_error_line(r, "no process 999999999");
}

TEST_F(CliTest, ErrorsAreOneLineWithTheirStatus) {
  mkgroup("w");
  struct Case {
    std::string args, mentions;
    int status;
  };
  const std::vector<Case> cases{
      {"show -m . nosuch", "no group 'nosuch'", 1},
      {"show -m . w/nosuch", "no group 'w/nosuch'", 1},
      {"show -m . w/syscalls.deny", "no group", 1},  // a control file, not a group
      {"show -m . ../..", "no group", 1},
      {"show -m . w/../w", "no group", 1},
      {"show -m .", "usage", 2},  // no group
      {"show -m . w extra", "usage", 2},
      {"tree -m /nonexistent", "no syscgfs mount at /nonexistent", 1},
      {"tree -m /tmp", "no syscgfs mount at /tmp", 1},
      {"show -m /tmp w", "no syscgfs mount", 1},
      {"ps -m /nonexistent", "no syscgfs mount", 1},
      {"tree -m . --bogus", "bogus", 2},
      {"ps -m . abc", "'abc' is not a process id", 2},
      {"ps -m . 0", "'0' is not a process id", 2},
      {"ps -m . 12x", "'12x' is not a process id", 2},
      {"ps -m . 99999999999999999999", "is not a process id", 2},
      {"ps -m . -5", "usage", 2},
  };
  for (const auto& [args, mentions, status] : cases) {
    SCOPED_TRACE(args);
    const auto r = syscg_stderr(args);
    EXPECT_EQ(r.status, status) << r.output;
    expect_one_error_line(r, mentions);
  }
  EXPECT_EQ(syscg("tree --help").status, 0);
}

// ---------------------------------------------------------------- parsers

TEST(CliParsersTest, DenyTokensMayCarryAnErrno) {
  const auto deny = cli::mount::parse_deny("59 435:ENOSYS 436:38 500\n");
  ASSERT_EQ(deny.size(), 4u);
  EXPECT_EQ(deny[0].nr, 59u);
  EXPECT_EQ(deny[0].err, EPERM);
  EXPECT_EQ(deny[1].nr, 435u);
  EXPECT_EQ(deny[1].err, ENOSYS);
  EXPECT_EQ(deny[2].err, ENOSYS);
  EXPECT_EQ(deny[3].err, EPERM);
  EXPECT_TRUE(cli::mount::parse_deny("\n").empty());
  for (const char* bad : {"x", "59:", "59:ENOPE", ":EPERM", "-1", "59:0", "5 9:EPERM:EPERM"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(cli::mount::parse_deny(bad), cli::CliError);
  }
}

TEST(CliParsersTest, MalformedLinesAreErrorsNotCrashes) {
  using cli::mount::parse_denied, cli::mount::parse_procs, cli::mount::parse_stricter, cli::mount::parse_warnings;
  EXPECT_EQ(parse_procs("12\n34\n"), (std::vector<Pid>{12, 34}));
  EXPECT_THROW(parse_procs("12 34\n"), cli::CliError);
  EXPECT_THROW(parse_procs("-3\n"), cli::CliError);
  EXPECT_THROW(parse_denied("110 getppid\n"), cli::CliError);
  EXPECT_THROW(parse_denied("110 getppid many\n"), cli::CliError);
  EXPECT_EQ(parse_denied("500 - 7\n")[0].count, 7u);
  EXPECT_THROW(parse_stricter("12 1-x tightened\n"), cli::CliError);
  EXPECT_THROW(parse_stricter("12 59\n"), cli::CliError);
  const auto s = parse_stricter("12 59,62-64 tightened\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].numbers.count(), 4u);
  EXPECT_THROW(parse_warnings("vdso 228\n"), cli::CliError);
  EXPECT_EQ(parse_warnings("vdso 228 a fix with spaces\n")[0].fix, "a fix with spaces");
  EXPECT_EQ(cli::mount::group_path("/web//php/"), "/web/php");
  EXPECT_EQ(cli::mount::group_path(""), "/");
  EXPECT_EQ(cli::mount::group_path("a/../b"), std::nullopt);
}

}  // namespace
}  // namespace syscg::test
