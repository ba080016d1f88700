// A controlled restart without a service manager, the giving side: starts
// the successor and hands it the daemon (handover.h, handover_channel.h).
//
// hand_off(), in order (any failure undoes what was done and returns the
// error: the daemon serves on, nothing lost):
//  1. notes its own mount's device;
//  2. freezes the filesystem (later mutations fail with EAGAIN; every
//     acknowledged change is durable);
//  3. pauses the supervisor (`hand_over`): routed calls wait in the kernel;
//  4. starts `argv` (the successor, "-o takeover=3" appended) with one end
//     of a socketpair as fd 3, and sends it the bundle, the state lock and
//     the listeners;
//  5. waits for "ready": the successor restored the state, took the
//     members, mounted beneath this mount (mount_beneath.h) and runs; then
//     sends the members again (its own fork events run now; children forked
//     meanwhile, orphans too, were seen by ours only) and waits for "A": the
//     commit point, after which the successor reads the listeners and takes
//     restart requests. Until then a failure (each wait has a deadline)
//     kills the successor before this daemon serves on: never two daemons
//     answering one listener;
//  6. detaches its own mount, still the top one: the successor's is
//     uncovered in the same step, so no path ever answers ENOTCONN.
// Then the caller ends the FUSE loop without unmounting (the mount point now
// belongs to the successor) and exits, closing its copies of the listeners.
// A successor that fails after mounting leaves a dead mount beneath ours;
// the caller detaches it after its own at exit (a path answering ENOTCONN).
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/syscall_set.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"
#include "fs/filesystem.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace syscg::fs {

struct HandedListeners {
  std::vector<std::pair<Pid, sys::UniqueFd>> listeners;  // each with the process that made it
  std::map<Pid, SyscallSet> routed;
};

struct HandoffParts {
  Filesystem& filesystem;
  std::function<Result<HandedListeners>()> hand_over;     // pauses the supervisor, copies its listeners
  std::function<void()> resume;                           // serves them again (failure)
  std::function<std::map<Pid, SyscallSet>()> routed_now;  // every process's routed numbers (the second snapshot)
  int lock_fd = -1;                                       // the state lock; -1: no state
  int control_fd = -1;                                    // the restart socket (listening); -1: none
  std::vector<std::string> argv;                          // the successor's command line, binary first
  std::string cwd;                                        // where it runs (for relative paths in argv)
  std::string mountpoint;
  sys::Log& log;
  // Tests only (SYSCGFS_TEST_HANDOFF_GATE): runs once the supervisor is
  // paused and the bundle made, before the successor starts; a test holds
  // the restart there.
  std::function<void()> test_gate = {};
};

Result<Pid> hand_off(HandoffParts& parts);

}  // namespace syscg::fs
