#include "enforcer/cli/commands.h"

namespace syscg::cli {

void add_tree(CLI::App& app, const Common&) {
  app.add_subcommand("tree", "(not yet)")->callback([] { throw CliError(kFailed, "tree: not yet"); });
}

}  // namespace syscg::cli
