#include "enforcer/cli/commands.h"

namespace syscg::cli {

void add_ps(CLI::App& app, const Common&) {
  app.add_subcommand("ps", "(not yet)")->callback([] { throw CliError(kFailed, "ps: not yet"); });
}

}  // namespace syscg::cli
