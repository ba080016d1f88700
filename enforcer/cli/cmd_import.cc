#include "enforcer/cli/commands.h"

namespace syscg::cli {

void add_import(CLI::App& app, const Common&) {
  app.add_subcommand("import", "(not yet)")->callback([] { throw CliError(kFailed, "import: not yet"); });
}

}  // namespace syscg::cli
