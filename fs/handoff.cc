#include "fs/handoff.h"

#include "enforcer/sys/error.h"
#include "fs/handover_channel.h"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

// fork + exec with `sock` as fd 3. Everything the child touches is built
// before fork: the daemon is multithreaded, so only async-signal-safe calls
// run between fork and exec.
Result<pid_t> spawn(const std::vector<std::string>& argv, int sock) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error(Errc::io, "fork (successor)");
  if (pid == 0) {
    // dup2 clears close-on-exec; when sock is 3 already, clear it by hand.
    if (sock == 3 ? ::fcntl(3, F_SETFD, 0) != 0 : ::dup2(sock, 3) != 3) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

Result<Pid> hand_off(HandoffParts& p) {
  // 1. Our mount's device: the top of the mount point must still be ours
  // when we detach it.
  struct stat ours {};
  if (::stat(p.mountpoint.c_str(), &ours) != 0) return sys::sys_error(Errc::io, fmt::format("stat {}", p.mountpoint));

  // 2. No change from here on; every acknowledged one is in the database.
  if (auto frozen = p.filesystem.freeze(); !frozen) {
    p.filesystem.thaw();
    return frozen.error();
  }
  // 3. Routed calls wait in the kernel from here on.
  auto handed = p.hand_over();
  auto undo = [&](Error e) -> Result<Pid> {
    p.resume();
    p.filesystem.thaw();
    return e;
  };
  if (!handed) return undo(handed.error());

  Bundle bundle;
  bundle.members = p.filesystem.members_now();
  bundle.routed = handed.value().routed;
  bundle.argv = p.argv;
  std::vector<int> fds;
  for (const auto& [owner, fd] : handed.value().listeners) {
    bundle.listeners.push_back(owner);
    fds.push_back(fd.get());
  }

  // Tests hold the restart here: the bundle is made, the supervisor paused.
  if (p.test_gate) p.test_gate();

  // 4. The successor, with its end of the channel as fd 3.
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return undo(sys::sys_error(Errc::io, "socketpair (hand-over)"));
  sys::UniqueFd mine(pair[0]), theirs(pair[1]);
  std::vector<std::string> argv = p.argv;
  argv.insert(argv.end(), {"-o", "takeover=3"});
  auto child = spawn(argv, theirs.get());
  if (!child) return undo(child.error());
  theirs.reset();  // EOF on `mine` now means the successor is gone
  auto reap = [&] {
    int status;
    while (::waitpid(child.value(), &status, 0) < 0 && errno == EINTR) {
    }
  };
  if (auto sent = send_bundle(mine.get(), bundle, p.lock_fd, p.control_fd, fds); !sent) {
    mine.reset();  // the successor reads EOF and exits
    reap();
    return undo(sent.error());
  }
  // 5. Its "ready": it serves the mount.
  auto ready = wait_ready(mine.get());
  if (!ready) {
    reap();
    return undo(ready.error());
  }
  // 5b. Our events ran on while the successor started; its own run now.
  // Children forked meanwhile (orphaned too: their parent may be gone) are
  // in our view only: the members again, for the successor to take.
  Bundle later;
  later.members = p.filesystem.members_now();
  if (p.routed_now) later.routed = p.routed_now();
  if (auto sent = send_bundle(mine.get(), later, -1, -1, {}); !sent) {
    mine.reset();
    reap();
    return undo(sent.error());
  }
  if (auto acked = wait_ack(mine.get()); !acked) {
    reap();
    return undo(acked.error());
  }
  // A daemonizing successor's first process ends once it forked: reap it.
  (void)::waitpid(child.value(), nullptr, WNOHANG);

  // 6. Ours is the top mount, the successor's right beneath it: detaching
  // ours uncovers it in one step.
  struct stat top {};
  if (::stat(p.mountpoint.c_str(), &top) != 0 || top.st_dev != ours.st_dev)
    p.log.error("the top mount at {} is no longer this daemon's: not detached", p.mountpoint);
  else if (::umount2(p.mountpoint.c_str(), MNT_DETACH) != 0)
    p.log.error("the old mount at {} could not be detached: {}", p.mountpoint, std::strerror(errno));
  return ready.value();
}

}  // namespace syscg::fs
