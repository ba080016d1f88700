// syscgfs's persistent state on disk: one text file (state_codec.h) replaced
// atomically.
//
// save() writes a temporary file in the same directory, fsyncs it, renames it
// over the old one and fsyncs the directory: after a crash the file holds the
// old state or the new one, never a mix.
#pragma once

#include "core/error.h"
#include "fs/state_codec.h"

#include <optional>
#include <string>

namespace syscg::fs {

// Errors: io (the failed call and its errno, Error::sys_errno).
Status save(const std::string& path, const State& state);
// nullopt when there is no file yet. Errors: io (unreadable: the failed
// call and its errno); invalid (corrupt content, decode()).
Result<std::optional<State>> load(const std::string& path);

}  // namespace syscg::fs
