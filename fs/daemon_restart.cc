#include "fs/daemon_restart.h"

#include "core/restart_protocol.h"
#include "fs/handoff.h"
#include "fs/service_handover.h"
#include "fs/service_notify.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <unistd.h>

namespace syscg::fs {
namespace {

// SYSCGFS_TEST_HANDOFF_GATE=DIR (tests only): a restart, its supervisor
// paused, writes "paused" into the FIFO DIR/paused and waits for the FIFO
// DIR/go to be written and closed. Blocking opens: no timing involved.
std::function<void()> handoff_gate(const char* dir) {
  if (!dir) return {};
  return [d = std::string(dir)] {
    if (FILE* paused = std::fopen((d + "/paused").c_str(), "w")) {
      std::fputs("paused\n", paused);
      std::fclose(paused);
    }
    if (FILE* go = std::fopen((d + "/go").c_str(), "r")) {
      while (std::fgetc(go) != EOF) {
      }
      std::fclose(go);
    }
  };
}

Result<HandedListeners> hand_over(enforcer::Enforcer& enforcer) {
  BOOST_OUTCOME_TRY(h, enforcer.hand_over());
  HandedListeners out;
  for (auto& l : h.listeners) out.listeners.emplace_back(l.owner, std::move(l.fd));
  out.routed = std::move(h.routed);
  return out;
}

}  // namespace

std::vector<std::string> successor_argv(int argc, char** argv) {
  std::vector<std::string> out;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string self = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : std::string(argv[0]);
  if (self.ends_with(" (deleted)")) self.resize(self.size() - 10);  // replaced by an upgrade: the new file
  out.push_back(self);
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-o" && i + 1 < argc && std::string_view(argv[i + 1]).starts_with("takeover=")) {
      ++i;
      continue;
    }
    if (a.starts_with("-otakeover=")) continue;
    out.emplace_back(a);
  }
  return out;
}

Restarts::Restarts(Parts parts) : p_(std::move(parts)), main_thread_(pthread_self()) {}

Restarts::~Restarts() { server_.reset(); }

void Restarts::serve(sys::UniqueFd inherited) {
  auto server = RestartServer::start(
      restart_socket_name(p_.mount_path), std::move(inherited), [this](Pid peer) { return untrusted(peer); },
      [this](int control_fd) { return restart(control_fd); }, [this] { after_handoff(); }, p_.log);
  if (server)
    server_ = std::move(server).value();
  else
    p_.log.warning("no restart socket ({}); syscg restart is unavailable", server.error().message);
}

std::optional<std::string> Restarts::untrusted(Pid peer) {
  p_.enforcer.sync();  // every fork before the request is in the view
  if (p_.hierarchy.group_of(peer)) return fmt::format("process {} is a member of a group", peer);
  if (!p_.enforcer.may_subvert(peer)) return fmt::format("process {} lacks CAP_SYS_PTRACE", peer);
  return std::nullopt;
}

Result<Pid> Restarts::restart(int control_fd) {
  if (service::notify_socket_set())
    return make_error(Errc::busy, "syscgfs runs under a service manager: restart it there (systemctl restart syscgfs)");
  // Without a state the successor would restore no group and let every
  // member go (adopt_handed finds none of their groups): refused (found by
  // an attacker review).
  if (p_.lock_fd < 0)
    return make_error(Errc::invalid, "this daemon keeps no state (-o state=none): a successor would lose every group");
  HandoffParts parts{p_.filesystem,
                     [this] { return hand_over(p_.enforcer); },
                     [this] {
                       if (auto resumed = p_.enforcer.resume(); !resumed)
                         p_.log.error("the supervisor did not resume ({}); routed calls wait", resumed.error().message);
                     },
                     [this] { return p_.enforcer.routed_now(); },
                     p_.lock_fd,
                     control_fd,
                     p_.successor_argv,
                     p_.cwd,
                     p_.mount_path,
                     p_.log,
                     handoff_gate(std::getenv("SYSCGFS_TEST_HANDOFF_GATE"))};
  auto pid = hand_off(parts);
  if (pid) handed_over_ = true;
  return pid;
}

void Restarts::after_handoff() {
  // Files opened on the old mount before it was detached are served to
  // their close; ending the loop earlier would fail them with ECONNABORTED.
  std::unique_lock lock(loop_mu_);
  if (!loop_cv_.wait_for(lock, kHandoffGrace, [this] { return loop_ended_; })) {
    p_.log.notice("files still open on the old mount after {} s: they fail with ECONNABORTED now",
                  kHandoffGrace.count());
    pthread_kill(main_thread_, SIGTERM);  // libfuse's handler ends the loop
  }
}

void Restarts::loop_ended() {
  {
    std::lock_guard lock(loop_mu_);
    loop_ended_ = true;
  }
  loop_cv_.notify_all();
  server_.reset();  // joins its thread (which may be waiting in after_handoff)
}

Status Restarts::store_for_next_start() {
  BOOST_OUTCOME_TRY(p_.filesystem.freeze());
  BOOST_OUTCOME_TRY(handed, p_.enforcer.hand_over());
  Bundle bundle;
  bundle.members = p_.filesystem.members_now();
  bundle.routed = std::move(handed.routed);
  std::vector<int> fds;
  for (const auto& l : handed.listeners) {
    bundle.listeners.push_back(l.owner);
    fds.push_back(l.fd.get());
  }
  return store_handover(bundle, fds);
}

}  // namespace syscg::fs
