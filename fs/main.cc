// syscgfs MOUNTPOINT [options]: mounts the syscg hierarchy (libfuse
// conventions: -f foreground, -d debug, -o options, -h, -V).
#include "core/hierarchy.h"
#include "enforcer/enforcer.h"
#include "fs/filesystem.h"
#include "fs/cut_vfs.h"
#include "fs/fuse_ops.h"
#include "fs/journal.h"
#include "fs/service_notify.h"
#include "fs/state.h"
#include "fs/daemon_restart.h"
#include "fs/handover_channel.h"
#include "fs/mount_beneath.h"
#include "fs/service_handover.h"
#include "core/restart_protocol.h"
#include "enforcer/sys/log.h"

#include <fmt/format.h>
#include <fuse_lowlevel.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr const char* kVersion = "0.1.0";

// One line on stderr, then a non-zero exit status.
int fail(const std::string& message) {
  fmt::print(stderr, "syscgfs: {}\n", message);
  return 1;
}

// A mountpoint must be an existing directory that is not already a mount.
std::string check_mountpoint(const char* path) {
  struct stat st {};
  if (stat(path, &st) != 0) return fmt::format("{}: {}", path, std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return fmt::format("{}: not a directory", path);
  struct stat parent {};
  if (stat(fmt::format("{}/..", path).c_str(), &parent) != 0) return fmt::format("{}: {}", path, std::strerror(errno));
  if (parent.st_dev != st.st_dev || parent.st_ino == st.st_ino)
    return fmt::format("{}: mountpoint is busy (already a mount point)", path);
  return {};
}

struct SyscgOptions {
  char* state = nullptr;
  int fresh = 0;
  int log_denials = 0;
  int takeover = -1;  // -o takeover=FD: a restart's successor (fs/handoff.h), FD its channel
  // The words that are no options: MOUNTPOINT, or SOURCE MOUNTPOINT as
  // mount.fuse3 passes them (`mount -t fuse.syscgfs syscgfs /run/syscg`,
  // an fstab line); the source names nothing and is dropped.
  std::vector<std::string> words;
};

int keep_words(void* data, const char* arg, int key, fuse_args*) {
  if (key != FUSE_OPT_KEY_NONOPT) return 1;  // libfuse's to parse
  static_cast<SyscgOptions*>(data)->words.emplace_back(arg);
  return 0;
}
const fuse_opt kSyscgOptions[] = {
    {"state=%s", offsetof(SyscgOptions, state), 0},
    {"fresh", offsetof(SyscgOptions, fresh), 1},
    {"log_denials", offsetof(SyscgOptions, log_denials), 1},
    {"takeover=%d", offsetof(SyscgOptions, takeover), 0},
    FUSE_OPT_END,
};

// The saved state, open and locked for this daemon (fs/state.h).
struct SavedState {
  std::optional<syscg::fs::StateLock> lock;
  std::unique_ptr<syscg::fs::Store> store;
};

// Locks and opens the state at `path` (converting a version-1 file, or
// setting a corrupt one aside with `fresh`). Returns a one-line problem, or
// "" on success.
std::string open_state(const std::string& path, bool fresh, syscg::sys::Log& log, SavedState& out,
                       syscg::sys::UniqueFd inherited_lock) {
  if (const auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    std::error_code ec;  // the non-throwing overload: no exception leaves main
    std::filesystem::create_directories(path.substr(0, slash), ec);
    if (ec) return fmt::format("{}: {}", path.substr(0, slash), ec.message());
  }
  auto lock = inherited_lock ? syscg::fs::StateLock::inherit(path, std::move(inherited_lock))
                             : syscg::fs::StateLock::acquire(path);
  if (!lock) return lock.error().message;
  out.lock.emplace(std::move(lock).value());
  // The test hook SYSCGFS_TEST_CUT_AT_SYNC (fs/cut_vfs.h): tests only.
  const char* vfs = nullptr;
  if (const char* cut = std::getenv(syscg::fs::kCutAtSyncVariable.data())) {
    auto n = syscg::fs::parse_cut_at_sync(cut);
    if (!n) return n.error().message;
    auto name = syscg::fs::register_cut_vfs(n.value());
    if (!name) return name.error().message;
    vfs = name.value();
  }
  auto store = syscg::fs::open_state(path, fresh, log, vfs);
  if (!store)
    return store.error().code == syscg::Errc::invalid
               ? fmt::format("corrupt state ({}); start with -o fresh to set it aside and start empty",
                             store.error().message)
               : fmt::format("unreadable state ({}); fix or remove it", store.error().message);
  out.store = std::move(store).value();
  return {};
}

struct ArgsDeleter {
  void operator()(fuse_args* a) const { fuse_opt_free_args(a); }
};
struct SessionDeleter {
  void operator()(fuse_session* s) const { fuse_session_destroy(s); }
};
struct LoopConfigDeleter {
  void operator()(fuse_loop_config* c) const { fuse_loop_cfg_destroy(c); }
};

}  // namespace

int main(int argc, char** argv) {
  fuse_args args_storage = FUSE_ARGS_INIT(argc, argv);
  std::unique_ptr<fuse_args, ArgsDeleter> args(&args_storage);
  // syscgfs's own options, taken out before libfuse sees the rest.
  SyscgOptions own;
  if (fuse_opt_parse(args.get(), &own, kSyscgOptions, keep_words) != 0) return 1;
  if (own.words.size() > 2) return fail("too many arguments: syscgfs [SOURCE] MOUNTPOINT [options] (see --help)");
  if (!own.words.empty() && fuse_opt_add_arg(args.get(), own.words.back().c_str()) != 0) return fail("out of memory");
  std::unique_ptr<char, decltype(&std::free)> state_option(own.state, &std::free);
  // "-o state=none" keeps nothing (for benchmarks and experiments).
  std::string state_path = own.state ? own.state : syscg::fs::kDefaultStatePath;
  if (state_path == "none") state_path.clear();
  fuse_cmdline_opts opts{};
  if (fuse_parse_cmdline(args.get(), &opts) != 0) return 1;
  std::unique_ptr<char, decltype(&std::free)> mountpoint(opts.mountpoint, &std::free);
  if (opts.show_help) {
    fmt::print(
        "usage: {} [SOURCE] MOUNTPOINT [options]\n\n"
        "Mounts the syscg hierarchy: mkdir a group, write syscall numbers to\n"
        "syscalls.allow / syscalls.deny, move processes through cgroup.procs.\n"
        "Always mounted with allow_other,default_permissions. SOURCE (as mount(8)\n"
        "and fstab give it: mount -t fuse.syscgfs syscgfs /run/syscg) is ignored.\n\n"
        "syscgfs options:\n"
        "    -o state=PATH          the state database (SQLite; default {}; none: nowhere)\n"
        "    -o fresh               start empty, setting aside a corrupt state\n"
        "    -o log_denials         log denials the supervisor answers (stderr with -f, else syslog)\n\n",
        argv[0], syscg::fs::kDefaultStatePath);
    fuse_cmdline_help();
    fuse_lowlevel_help();
    return 0;
  }
  if (opts.show_version) {
    fmt::print("syscgfs {}\n", kVersion);
    fuse_lowlevel_version();
    return 0;
  }
  if (!mountpoint) return fail("no mountpoint given (see --help)");
  // Where we started: a restart's successor resolves our relative paths there.
  char cwd_buf[PATH_MAX];
  const std::string start_cwd = getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : "";
  // A successor mounts over its predecessor's mount (fs/handoff.h).
  const bool takeover = own.takeover >= 0;
  if (auto problem = check_mountpoint(mountpoint.get()); !problem.empty() && !takeover) return fail(problem);
  if (getuid() != 0) return fail("must run as root (it mounts with allow_other and moves other users' processes)");
  char real[PATH_MAX];
  if (!realpath(mountpoint.get(), real)) return fail(fmt::format("{}: {}", mountpoint.get(), std::strerror(errno)));
  const std::string mount_path = real;
  // A restart's successor: the bundle, the state lock, the restart socket
  // and the listeners, before anything else (fs/handover_channel.h).
  syscg::sys::UniqueFd channel(takeover ? own.takeover : -1);
  std::optional<syscg::fs::Received> handed;
  if (takeover) {
    auto r = syscg::fs::receive_bundle(channel.get());
    if (!r) return fail(fmt::format("taking over: {}", r.error().message));
    handed.emplace(std::move(r).value());
  }
  // Or a restart by the service manager: what the predecessor stored
  // (fs/service_handover.h).
  std::optional<std::vector<syscg::Pid>> stored_by_predecessor;
  if (!takeover) {
    auto passed = syscg::fs::service::take_passed_fds();
    std::vector<std::string> names;
    for (const auto& p : passed) names.push_back(p.first);
    if (!passed.empty()) {
      if (auto taken = syscg::fs::take_handover(std::move(passed)); !taken) {
        // Unusable: the manager's copies must go, or routed calls would wait
        // for ever; without the listeners they fail with ENOSYS.
        fmt::print(stderr, "syscgfs: error: the stored hand-over is unusable ({}); routed calls fail with ENOSYS\n",
                   taken.error().message);
        for (const auto& n : names) (void)syscg::fs::service::remove_fds(n);
      } else if (taken.value()) {
        stored_by_predecessor = std::move(taken.value()->stored);
        handed.emplace(std::move(taken.value()->received));
      } else {
        // Stored fds without a bundle (a stop cut short): the manager's
        // copies go too, or routed calls would wait for ever.
        for (const auto& n : names) (void)syscg::fs::service::remove_fds(n);
      }
    }
  }

  fuse_opt_add_arg(args.get(), "-oallow_other,default_permissions,fsname=syscg,subtype=syscg");
  // One pidfd per tracked member: raise the soft fd limit to the hard one.
  if (rlimit fds{}; getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &fds) != 0)
      fmt::print(stderr, "syscgfs: warning: cannot raise the open-file limit: {}\n", std::strerror(errno));
  }

  // The composition root: every object is built here and wired explicitly.
  // The log goes to stderr until the daemon leaves the foreground, then to
  // syslog (stderr is /dev/null after fuse_daemonize).
  syscg::sys::StderrLog stderr_log("syscgfs");
  syscg::sys::SwitchableLog log(stderr_log);
  std::optional<syscg::sys::SyslogLog> syslog_log;
  syscg::Hierarchy hierarchy;
  syscg::enforcer::Enforcer enforcer(log);
  // The state: locked, opened (converted, or set aside with -o fresh) and
  // read before anything is mounted; its changes are group-committed.
  SavedState saved;
  if (!state_path.empty())
    if (auto problem = open_state(state_path, own.fresh != 0, log, saved,
                                  handed ? std::move(handed->lock) : syscg::sys::UniqueFd{});
        !problem.empty())
      return fail(problem);
  std::optional<syscg::fs::Journal> journal;
  if (saved.store)
    journal.emplace([store = saved.store.get()](std::span<const syscg::fs::RowOp> ops) { return store->commit(ops); });
  syscg::fs::Options fs_options{{getuid(), getgid(), getpid()}, journal ? &*journal : nullptr, own.log_denials != 0};
  syscg::fs::Filesystem filesystem(hierarchy, enforcer, log, std::move(fs_options));
  // Forks, exits and supervisor questions go to the filesystem, until it is
  // destroyed: the guard, destroyed first, unwires it and returns once no
  // report is in flight (the enforcer's threads outlive the filesystem).
  enforcer.set_listener(&filesystem);
  const std::unique_ptr<syscg::enforcer::Enforcer, void (*)(syscg::enforcer::Enforcer*)> unwire(
      &enforcer, [](syscg::enforcer::Enforcer* e) { e->set_listener(nullptr); });
  if (handed) {
    // Before restore: an adopted member's record keeps what its listener routes.
    std::vector<syscg::enforcer::Supervisor::Held> listeners;
    for (std::size_t i = 0; i < handed->listeners.size(); ++i)
      listeners.push_back({handed->bundle.listeners[i], std::move(handed->listeners[i])});
    enforcer.take_over(std::move(listeners), handed->bundle.routed);
  }
  if (saved.store)
    if (auto restored = filesystem.restore(saved.store->loaded()); !restored)
      return fail(fmt::format("{}: cannot restore the state ({})", state_path, restored.error().message));
  if (handed)
    if (auto joined = filesystem.adopt_handed(handed->bundle.members); !joined)
      return fail(fmt::format("taking over the members: {}", joined.error().message));

  const auto& ops = syscg::fs::fuse_operations();
  std::unique_ptr<fuse_session, SessionDeleter> se(fuse_session_new(args.get(), &ops, sizeof ops, &filesystem));
  if (!se) return fail("cannot create the FUSE session");
  // SIGINT, SIGTERM and SIGHUP end the loop; we then unmount.
  if (fuse_set_signal_handlers(se.get()) != 0) return fail("cannot install signal handlers");
  if (takeover) {
    // Beneath the predecessor's mount, which its unmount uncovers.
    auto dev = syscg::fs::mount_beneath(mount_path);
    if (!dev) {
      fuse_remove_signal_handlers(se.get());
      return fail(fmt::format("taking over: {}", dev.error().message));
    }
    const std::string fd_path = fmt::format("/dev/fd/{}", dev.value().get());
    if (fuse_session_mount(se.get(), fd_path.c_str()) != 0) {
      fuse_remove_signal_handlers(se.get());
      return fail(fmt::format("{}: the FUSE session did not take the mount", mountpoint.get()));
    }
    (void)dev.value().release();  // the session's now
  } else if (fuse_session_mount(se.get(), mountpoint.get()) != 0) {
    fuse_remove_signal_handlers(se.get());
    return fail(fmt::format("{}: mount failed", mountpoint.get()));
  }
  if (fuse_daemonize(opts.foreground) != 0) {
    fuse_session_unmount(se.get());
    fuse_remove_signal_handlers(se.get());
    return fail("cannot go to the background");
  }
  if (!opts.foreground) {
    syslog_log.emplace("syscgfs");
    log.set(*syslog_log);
  }
  enforcer.start();  // its threads must belong to the daemonized process
  // Ready only once the hierarchy is mounted, the state restored and every
  // re-adopted member's filters read back: a unit ordered after ours may
  // then move processes and read what they may call.
  enforcer.wait_started();
  // Children members forked during the restart, which no event reached.
  if (handed) enforcer.rescan_children();

  // `syscg restart`, and the hand-over stored at a stop under a service
  // manager (fs/daemon_restart.h).
  syscg::fs::Restarts restarts({filesystem, enforcer, hierarchy, log, saved.lock ? saved.lock->fd() : -1, mount_path,
                                syscg::fs::successor_argv(argc, argv), start_cwd});
  if (takeover) {
    // The predecessor's second snapshot (children forked while we started,
    // seen by its events only), then "A": the commit point. Any failure
    // before it ends us, having read no listener and taken no request: the
    // predecessor then kills us and serves on (never two daemons answering
    // one listener). Our mount, beneath its, dies with us.
    if (auto ready = syscg::fs::send_ready(channel.get(), getpid()); !ready)
      return fail(fmt::format("taking over: telling the predecessor we run: {}", ready.error().message));
    auto later = syscg::fs::receive_bundle(channel.get());
    if (!later) return fail(fmt::format("taking over: the predecessor's last members: {}", later.error().message));
    enforcer.add_handed_routed(later.value().bundle.routed);
    if (auto joined = filesystem.adopt_handed(later.value().bundle.members); !joined)
      return fail(fmt::format("taking over the predecessor's last members: {}", joined.error().message));
    // Their children forked since its snapshot: our events saw those forks
    // before their parents were members here.
    enforcer.rescan_children();
    if (auto acked = syscg::fs::send_ack(channel.get()); !acked)
      return fail(fmt::format("taking over: {}", acked.error().message));
    channel.reset();
  }
  // Committed (or nothing handed over): the handed listeners are ours to
  // answer, and restart requests ours to take.
  enforcer.serve_handed();
  restarts.serve(handed ? std::move(handed->control) : syscg::sys::UniqueFd{});
  if (syscg::fs::service::notify_socket_set() && !opts.foreground)
    log.warning("NOTIFY_SOCKET is set but syscgfs went to the background: run it with -f under a service manager");
  if (auto s = syscg::fs::service::ready(fmt::format("syscg hierarchy mounted at {}", mountpoint.get())); !s)
    log.error("{}", s.error().message);
  // Serving: the manager's copies of the stored hand-over go, so that a
  // crash from now on fails closed, as without a manager.
  if (stored_by_predecessor)
    if (auto s = syscg::fs::forget_handover(*stored_by_predecessor); !s) log.error("{}", s.error().message);

  std::unique_ptr<fuse_loop_config, LoopConfigDeleter> loop(fuse_loop_cfg_create());
  fuse_loop_cfg_set_max_threads(loop.get(), opts.max_threads);
  fuse_loop_cfg_set_clone_fd(loop.get(), opts.clone_fd);
  const int rc = opts.singlethread ? fuse_session_loop(se.get()) : fuse_session_loop_mt(se.get(), loop.get());
  // Stopped by the service manager (systemctl restart): the listeners and
  // the bundle go to its fd store, for the next start.
  if (!restarts.handed_over() && syscg::fs::service::notify_socket_set())
    if (auto stored = restarts.store_for_next_start(); !stored)
      log.error("storing the hand-over for the next start failed ({}); routed calls fail with ENOSYS",
                stored.error().message);
  if (auto s = syscg::fs::service::stopping(); !s) log.error("{}", s.error().message);
  restarts.loop_ended();
  // Handed over: the mount point is the successor's (ours is detached).
  // A successor's own mount was made beneath, unknown to libfuse: ours to
  // detach. A dead mount left beneath ours (a successor that failed after
  // mounting) goes too.
  if (!restarts.handed_over()) {
    if (takeover) {
      if (umount2(mount_path.c_str(), MNT_DETACH) != 0)
        log.error("{}: unmount failed: {}", mount_path, std::strerror(errno));
    } else {
      fuse_session_unmount(se.get());
    }
    struct stat st {};
    while (stat(mount_path.c_str(), &st) != 0 && errno == ENOTCONN && umount2(mount_path.c_str(), MNT_DETACH) == 0) {
    }
  }
  fuse_remove_signal_handlers(se.get());
  // libfuse 3.14's signal handler stores the signal number as the loop's
  // result: an unmount asked for by SIGINT, SIGTERM or SIGHUP is a success.
  const bool by_signal = rc == SIGINT || rc == SIGTERM || rc == SIGHUP;
  return rc == 0 || by_signal ? 0 : 1;
}
