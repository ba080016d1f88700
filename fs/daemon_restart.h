// The composition root's share of restarts (part of syscgfs's main, which
// alone sees both the filesystem and the enforcer): the restart socket and
// `syscg restart`'s hand-over (fs/handoff.h), and the hand-over stored with
// a service manager at a stop (fs/service_handover.h).
//
// Contract:
//  - serve(): starts the restart socket thread (RestartServer) on the
//    inherited listening socket or a new one; a failure is logged (syscg
//    restart is then unavailable), the daemon runs on.
//  - A successful hand-over ends the FUSE loop: the kernel ends the old
//    connection once nothing holds the detached mount (the loop reads
//    ENODEV); after kHandoffGrace (files held open for ever) SIGTERM to the
//    main thread ends it. handed_over() then says the mount point is the
//    successor's: the caller must not unmount it.
//  - loop_ended(): the caller's FUSE loop has returned (call before
//    destroying this object).
//  - Under a service manager ($NOTIFY_SOCKET), `syscg restart` is refused:
//    the manager would lose track of a successor it did not start.
#pragma once

#include "core/hierarchy.h"
#include "enforcer/enforcer.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"
#include "fs/filesystem.h"
#include "fs/restart_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <vector>

namespace syscg::fs {

inline constexpr std::chrono::seconds kHandoffGrace{10};

// The successor's command line: this binary (its path now: an upgrade may
// have replaced the file) and our arguments, without an earlier takeover.
std::vector<std::string> successor_argv(int argc, char** argv);

class Restarts {
 public:
  struct Parts {
    Filesystem& filesystem;
    enforcer::Enforcer& enforcer;
    const Hierarchy& hierarchy;
    sys::Log& log;
    int lock_fd;  // the state lock; -1: no state
    std::string mount_path;
    std::vector<std::string> successor_argv;
    std::string cwd;  // where the daemon started (before daemonizing), for relative paths
  };
  // Call on the main thread (the one running the FUSE loop).
  explicit Restarts(Parts parts);
  ~Restarts();
  Restarts(const Restarts&) = delete;
  Restarts& operator=(const Restarts&) = delete;

  void serve(sys::UniqueFd inherited);
  void loop_ended();
  bool handed_over() const { return handed_over_; }

  // At a stop under a service manager: freezes, pauses the supervisor and
  // stores the bundle and the listeners for the next start.
  Status store_for_next_start();

 private:
  Result<Pid> restart(int control_fd);
  std::optional<std::string> untrusted(Pid peer);
  void after_handoff();

  Parts p_;
  const pthread_t main_thread_;
  std::atomic<bool> handed_over_{false};
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool loop_ended_ = false;  // guarded by loop_mu_
  std::unique_ptr<RestartServer> server_;
};

}  // namespace syscg::fs
