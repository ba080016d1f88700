// The model <-> State (state_codec.h): what is saved after every
// acknowledged change and rebuilt at start.
//
// Saved: every group (path, set, limits), its directory's and files' owners
// and modes, and the members moved by a write (with their start times).
// Children that joined by forking are not saved: their filters stay in
// place, they are not listed after a restart.
#pragma once

#include "core/error.h"
#include "core/hierarchy.h"
#include "fs/membership.h"
#include "fs/meta.h"
#include "fs/state_codec.h"

#include <cstdint>
#include <unordered_map>

namespace syscg::fs {

// The caller keeps the tree from changing (it holds write_mu_).
State capture(const Hierarchy& hierarchy, const MetaTable& meta,
              const std::unordered_map<Pid, std::uint64_t>& start_times);

// Rebuilds a fresh model (only the root) from `state`, which decode() has
// checked. Members whose pid no longer names the same process are dropped.
// Errors: those of the Hierarchy (the state contradicts the model).
Status restore(const State& state, Hierarchy& hierarchy, MetaTable& meta, Membership& membership);

}  // namespace syscg::fs
