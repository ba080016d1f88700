// A test hook only: "cuts the power" in the middle of a commit. When the
// daemon is started with SYSCGFS_TEST_CUT_AT_SYNC=N, the state database is
// opened through a shim over the default (unix) VFS that, at the Nth sync of
// the WAL file, throws away the second half of what was written to it since
// its last sync (a torn write: those bytes never reached the disk) and
// SIGKILLs the daemon before the sync. The change being committed was then
// written but not synced: it must be absent, or present whole, after a
// restart; every change acknowledged before it must be present.
#pragma once

#include "core/error.h"

#include <string_view>

namespace syscg::fs {

inline constexpr std::string_view kCutAtSyncVariable = "SYSCGFS_TEST_CUT_AT_SYNC";

// Parses N strictly (decimal, 1..1000000). Errors: invalid.
Result<int> parse_cut_at_sync(std::string_view text);
// Registers the shim (not as the default VFS) and returns its name, to pass
// to Store::open. Errors: io.
Result<const char*> register_cut_vfs(int nth_sync);

}  // namespace syscg::fs
