#include "enforcer/cli/commands.h"

namespace syscg::cli {

void add_record(CLI::App& app, const Common&) {
  app.add_subcommand("record", "(not yet)")->callback([] { throw CliError(kFailed, "record: not yet"); });
}

}  // namespace syscg::cli
