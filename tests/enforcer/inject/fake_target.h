// A fake inject::Target for the strategy's unit tests: no process, no
// ptrace. Each thread is a small model of what the kernel would do with
// the injected calls (no_new_privs, dumpable, the filter chain, the fd
// table), with the answers the tests script.
#pragma once

#include "enforcer/inject/target.h"

#include <linux/seccomp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace syscg::enforcer::inject::testing {

struct FakeThreadState {
  pid_t tid = 0;
  // Scripted behaviour.
  bool stops = true;             // its stop arrives
  bool exits = false;            // it exits before stopping (poll/wait: no_process)
  long seccomp_rc = 0;           // seccomp's answer (0: installed)
  std::optional<long> tsync_rc;  // seccomp's answer with TSYNC (no listener), if not seccomp_rc
  long listener_seccomp_rc = 0;  // seccomp's answer when a listener is asked for
  long spawn_rc = 0;             // spawn_private: the clone's answer (0: a private thread)
  std::optional<long> exit_rc;   // the private thread's exit: answers this and stays
  bool restore_fails = false;
  int close_window_errno = 0;  // PTRACE_SETOPTIONS(0) failing with this
  long io_uring_rc = -EINVAL;  // the probe's answer (-EINVAL: no context)
  // The model.
  bool nnp = false;
  long dumpable = 1;
  std::vector<Program> chain;
  std::set<int> fds;
  bool attached = true;
  bool stopped = false;
  bool in_window = false;
  bool exitkill = false;
  bool killed = false;
  bool released = false;                     // the strategy let it go
  std::vector<std::uint64_t> seccomp_flags;  // every seccomp call's flags
  std::vector<unsigned char> image;
  // A private thread: its process's state (seccomp goes there: TSYNC), and
  // the calls it made. A spawning thread keeps the one it made.
  FakeThreadState* process = nullptr;
  std::vector<long> calls;
  std::shared_ptr<FakeThreadState> spawned;
};

class FakeThread final : public Thread {
 public:
  explicit FakeThread(std::shared_ptr<FakeThreadState> s) : s_(std::move(s)) {}
  ~FakeThread() override {
    s_->released = true;
    if (s_->process && s_->attached) kill();  // a private thread is never let go
  }
  pid_t tid() const override { return s_->tid; }
  bool attached() const override { return s_->attached; }
  Status interrupt() override { return outcome::success(); }
  Result<bool> poll_stop() override {
    if (s_->exits) return gone();
    s_->stopped = s_->stops;
    return s_->stopped;
  }
  Status wait_stop(Deadline) override {
    BOOST_OUTCOME_TRY(stopped, poll_stop());
    if (!stopped) return make_error(Errc::limit, "did not stop in time");
    return outcome::success();
  }
  Result<SeccompState> seccomp_state() override {
    return SeccompState{s_->nnp, static_cast<unsigned>(s_->chain.size())};
  }
  Result<std::vector<Program>> filters() override { return s_->chain; }
  Result<Program> filter(unsigned i) override {
    if (i >= s_->chain.size()) return make_error(Errc::not_found, "no such filter");
    return s_->chain[i];
  }
  Result<std::uint64_t> open_window(std::span<const unsigned char> image) override {
    s_->image.assign(image.begin(), image.end());
    s_->in_window = s_->exitkill = true;
    return kScratch;
  }
  Status write(std::uint64_t, const void*, std::size_t) override { return outcome::success(); }
  Result<long> call(long nr, std::uint64_t a0, std::uint64_t a1, std::uint64_t, std::uint64_t, int) override {
    if (!s_->in_window) return make_error(Errc::invalid, "a call outside the window");
    s_->calls.push_back(nr);
    // A private thread's seccomp is the process's (TSYNC), scripted there.
    FakeThreadState& p = s_->process ? *s_->process : *s_;
    switch (nr) {
      case SYS_prctl:
        if (a0 == PR_SET_NO_NEW_PRIVS) s_->nnp = true;
        if (a0 == PR_GET_DUMPABLE) return s_->dumpable;
        if (a0 == PR_SET_DUMPABLE) s_->dumpable = static_cast<long>(a1);
        return 0;
      case SYS_seccomp: {
        p.seccomp_flags.push_back(a1);
        const bool listener = (a1 & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
        const bool tsync = (a1 & SECCOMP_FILTER_FLAG_TSYNC) != 0;
        const long rc = listener ? p.listener_seccomp_rc : tsync && p.tsync_rc ? *p.tsync_rc : p.seccomp_rc;
        if (rc != 0) return rc;
        Program prog((p.image.size() - sizeof(sock_fprog)) / sizeof(sock_filter));
        std::memcpy(prog.data(), p.image.data() + sizeof(sock_fprog), prog.size() * sizeof(sock_filter));
        p.chain.push_back(std::move(prog));
        if (!listener) return 0;
        s_->fds.insert(kListenerFd);  // in the calling thread's table
        return kListenerFd;
      }
      case SYS_clone: return -ENOSYS;  // only through spawn_private
      case SYS_exit:
        if (p.exit_rc) return *p.exit_rc;
        return gone();
      case SYS_io_uring_register: return s_->io_uring_rc;
      default: return -ENOSYS;
    }
  }
  Status restore() override {
    if (s_->restore_fails) return make_error(Errc::no_process, "restore failed");
    s_->in_window = false;
    return outcome::success();
  }
  Status close_window() override {
    if (s_->close_window_errno != 0) {
      Error e = make_error(Errc::io, "PTRACE_SETOPTIONS(0) failed");
      e.sys_errno = s_->close_window_errno;
      return e;
    }
    s_->exitkill = false;
    return outcome::success();
  }
  Result<Spawned> spawn_private(pid_t) override {
    if (!s_->in_window) return make_error(Errc::invalid, "a clone outside the window");
    if (s_->spawn_rc != 0) return Spawned{s_->spawn_rc, nullptr};
    s_->spawned = std::make_shared<FakeThreadState>();
    s_->spawned->tid = s_->tid + 1000;
    s_->spawned->process = s_.get();
    s_->spawned->fds = s_->fds;  // a private copy
    s_->spawned->stopped = true;
    return Spawned{0, std::make_unique<FakeThread>(s_->spawned)};
  }
  sys::UniqueFd take_fd(int fd) override {
    if (!s_->fds.contains(fd)) return {};
    return sys::UniqueFd(eventfd(0, EFD_CLOEXEC));  // stands for the daemon's copy
  }
  void kill() override {
    s_->killed = true;
    s_->attached = false;
  }

  static constexpr std::uint64_t kScratch = 0x7ff000;
  static constexpr int kListenerFd = 5;

 private:
  Error gone() {
    s_->attached = false;
    return make_error(Errc::no_process, "thread exited");
  }
  std::shared_ptr<FakeThreadState> s_;
};

class FakeTarget final : public Target {
 public:
  explicit FakeTarget(pid_t tgid) : tgid_(tgid) {}

  // A thread of the process (the first added is the leader, tgid).
  FakeThreadState& add(pid_t tid) {
    auto s = std::make_shared<FakeThreadState>();
    s->tid = tid;
    threads_[tid] = s;
    order_.push_back(tid);
    return *s;
  }
  FakeThreadState& thread(pid_t tid) { return *threads_.at(tid); }

  std::map<pid_t, Errc> seize_fails;  // seize(tid) fails with this
  std::set<pid_t> children_set;
  bool has_ended = false;
  bool memory_shared = false;
  bool foreign_user_namespace = false;

  pid_t tgid() const override { return tgid_; }
  std::vector<pid_t> threads() override { return order_; }
  Result<ThreadPtr> seize(pid_t tid) override {
    if (auto it = seize_fails.find(tid); it != seize_fails.end()) return make_error(it->second, "seize failed");
    return ThreadPtr(std::make_unique<FakeThread>(threads_.at(tid)));
  }
  bool in_group(pid_t tid) override { return threads_.contains(tid); }
  std::optional<unsigned> chain_length(pid_t tid) override {
    return static_cast<unsigned>(threads_.at(tid)->chain.size());
  }
  std::set<pid_t> children() override { return children_set; }
  bool shares_memory() override { return memory_shared; }
  bool in_our_user_namespace() override { return !foreign_user_namespace; }
  bool ended() override { return has_ended; }
  void pause() override {}

 private:
  pid_t tgid_;
  std::map<pid_t, std::shared_ptr<FakeThreadState>> threads_;
  std::vector<pid_t> order_;
};

}  // namespace syscg::enforcer::inject::testing
