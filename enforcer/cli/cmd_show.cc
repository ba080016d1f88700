#include "enforcer/cli/commands.h"

namespace syscg::cli {

void add_show(CLI::App& app, const Common&) {
  app.add_subcommand("show", "(not yet)")->callback([] { throw CliError(kFailed, "show: not yet"); });
}

}  // namespace syscg::cli
