// syscg: the command-line client of a syscgfs mount. Subcommands are in
// commands.h; this file parses and reports errors.
#include "enforcer/cli/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

// The first word that is neither an option nor -m's value: the command.
std::string first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-m" || a == "--mount") {
      ++i;
      continue;
    }
    if (!a.starts_with("-")) return std::string(a);
  }
  return {};
}

bool has_subcommand(const CLI::App& app, const std::string& name) {
  const auto subs = app.get_subcommands([&](const CLI::App* s) { return s->get_name() == name; });
  return !subs.empty();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace syscg::cli;
  Common common;
  // Everything after the first "--" is the command to run, untouched by
  // option parsing (it may have options of its own).
  char** const end = argv + argc;
  char** const dashes = std::find_if(argv + 1, end, [](const char* a) { return std::string_view(a) == "--"; });
  if (dashes != end) common.command.assign(dashes + 1, end);
  const int parsed_argc = static_cast<int>(dashes - argv);

  CLI::App app{"syscg: the client of a syscgfs mount (system call groups)", "syscg"};
  app.add_option("-m,--mount", common.mount, "where syscgfs is mounted")->capture_default_str();
  app.fallthrough();  // -m may also follow the subcommand
  app.require_subcommand(1);
  add_exec(app, common);
  add_tree(app, common);
  add_show(app, common);
  add_ps(app, common);
  add_import(app, common);
  add_record(app, common);
  add_restart(app, common);
  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (const std::string word = first_word(parsed_argc, argv); !word.empty() && !has_subcommand(app, word)) {
      fmt::print(stderr, "syscg: unknown command '{}' (see syscg --help)\n", word);
      return kUsage;
    }
    // exec keeps cgexec's status for its own failures, usage included.
    const bool exec =
        std::any_of(argv + 1, argv + parsed_argc, [](const char* a) { return std::string_view(a) == "exec"; });
    fmt::print(
        stderr, "syscg: {}; usage: {}\n", e.what(),
        exec ? "syscg exec [-m MOUNT] GROUP -- CMD [ARGS...]" : "syscg [-m MOUNT] COMMAND ... (see syscg --help)");
    return exec ? kExecOwnFailure : kUsage;
  } catch (const CliError& e) {
    fmt::print(stderr, "syscg: {}\n", e.what());
    return e.status;
  }
  return 0;
}
