// The syscg subcommands. Each add_X registers one subcommand on the app
// (its options, help and callback); main.cc builds the app from them.
//
// Conventions every subcommand keeps (README "The syscg command"):
//  - `-m/--mount MOUNT` (default /run/syscg) is the global option in
//    `Common`, read after parsing;
//  - errors: one line on stderr, "syscg: ...", and an exit status:
//      0 success, 1 the operation failed (the mount refused a write, a group
//      or process was not found), 2 usage (bad options), and for `exec` the
//      statuses of cgexec/env: 125 syscg's own error, 126 CMD cannot be run,
//      127 CMD not found (CMD's own status otherwise);
//  - `--json` where offered prints one JSON document on stdout.
// A callback reports failure by throwing CliError; main.cc prints it.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace syscg::cli {

struct Common {
  std::string mount = "/run/syscg";
  // The words after the first "--" on the command line (exec and record
  // run them); main.cc splits them off before parsing.
  std::vector<std::string> command;
};

// Thrown by a subcommand: the message (one line, no "syscg: " prefix) and
// the exit status.
struct CliError : std::runtime_error {
  CliError(int exit_status, const std::string& message) : std::runtime_error(message), status(exit_status) {}
  int status;
};

inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;
inline constexpr int kExecOwnFailure = 125;

void add_exec(CLI::App& app, const Common& common);     // cmd_exec.cc
void add_tree(CLI::App& app, const Common& common);     // cmd_tree.cc
void add_show(CLI::App& app, const Common& common);     // cmd_show.cc
void add_ps(CLI::App& app, const Common& common);       // cmd_ps.cc
void add_import(CLI::App& app, const Common& common);   // cmd_import.cc
void add_record(CLI::App& app, const Common& common);   // cmd_record.cc
void add_restart(CLI::App& app, const Common& common);  // cmd_restart.cc

}  // namespace syscg::cli
