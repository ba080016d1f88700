#include "fs/handoff.h"

#include "enforcer/sys/error.h"
#include "fs/handover_channel.h"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <poll.h>
#include <csignal>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace syscg::fs {
namespace {

// How long the successor may take for each step (its "ready", its "A").
constexpr int kSuccessorDeadlineSeconds = 30;

// fork + exec with `sock` as fd 3. Everything the child touches is built
// before fork: the daemon is multithreaded, so only async-signal-safe calls
// run between fork and exec.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& cwd, int sock) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  const pid_t pid = ::fork();
  if (pid < 0) return sys::sys_error(Errc::io, "fork (successor)");
  if (pid == 0) {
    // The restart thread blocks SIGTERM & co. (they are the main thread's),
    // and a mask survives exec: the successor must get them (found in
    // review: it could not be stopped, nor end its own hand-over's loop).
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Relative paths in argv are the predecessor's, from where it started
    // (daemonizing moved it to /).
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
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
  // Every wait on the successor is bounded: a hung one must not keep us
  // frozen (found in review).
  const timeval deadline{kSuccessorDeadlineSeconds, 0};
  if (::setsockopt(mine.get(), SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline) != 0)
    return undo(sys::sys_error(Errc::io, "SO_RCVTIMEO (hand-over)"));
  std::vector<std::string> argv = p.argv;
  argv.insert(argv.end(), {"-o", "takeover=3"});
  auto child = spawn(argv, p.cwd, theirs.get());
  if (!child) return undo(child.error());
  theirs.reset();  // EOF on `mine` now means the successor is gone
  // Before we serve on, the successor must be gone: until it has said "A"
  // (the commit point) it has not read a listener nor accepted a restart
  // request, but it could later. The first process is our child (not
  // reaped: its number cannot be reused); a daemonized successor is named by
  // the pidfd its "R PID" let us open.
  sys::UniqueFd successor;
  auto fail = [&](Error e) -> Result<Pid> {
    mine.reset();
    if (successor) (void)::syscall(SYS_pidfd_send_signal, successor.get(), SIGKILL, nullptr, 0);
    (void)::kill(child.value(), SIGKILL);
    while (::waitpid(child.value(), nullptr, 0) < 0 && errno == EINTR) {
    }
    if (successor) {
      pollfd gone{successor.get(), POLLIN, 0};
      (void)::poll(&gone, 1, kSuccessorDeadlineSeconds * 1000);
    }
    return undo(std::move(e));
  };
  if (auto sent = send_bundle(mine.get(), bundle, p.lock_fd, p.control_fd, fds); !sent) return fail(sent.error());
  // 5. Its "ready": it serves the mount (not yet the listeners).
  auto ready = wait_ready(mine.get());
  if (!ready) return fail(ready.error());
  successor = sys::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, ready.value(), 0)));
  // Ours must still be the top mount: detaching it is what uncovers the
  // successor's. Checked before the commit point.
  struct stat top {};
  if (::stat(p.mountpoint.c_str(), &top) != 0 || top.st_dev != ours.st_dev)
    return fail(make_error(Errc::busy, fmt::format("the top mount at {} is no longer this daemon's", p.mountpoint)));
  // 5b. Our events ran on while the successor started; its own run now.
  // Children forked meanwhile (orphaned too: their parent may be gone) are
  // in our view only: the members again, for the successor to take.
  Bundle later;
  later.members = p.filesystem.members_now();
  if (p.routed_now) later.routed = p.routed_now();
  if (auto sent = send_bundle(mine.get(), later, -1, -1, {}); !sent) return fail(sent.error());
  // The commit point: after "A" the successor reads the listeners.
  if (auto acked = wait_ack(mine.get()); !acked) return fail(acked.error());
  // A daemonizing successor's first process ends once it forked: reap it.
  (void)::waitpid(child.value(), nullptr, WNOHANG);

  // 6. Ours is the top mount, the successor's right beneath it: detaching
  // ours uncovers it in one step.
  if (::umount2(p.mountpoint.c_str(), MNT_DETACH) != 0)
    p.log.error("the old mount at {} could not be detached: {}", p.mountpoint, std::strerror(errno));
  return ready.value();
}

}  // namespace syscg::fs
