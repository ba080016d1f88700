// The one thread that owns every ptrace attachment of the daemon.
//
// ptrace requests belong to the thread that attached, and a FUSE worker must
// never wait on a traced process itself (the target's own close() needs a
// FUSE worker), so workers hand jobs to this thread and wait on futures.
// Jobs run one at a time, in order; each leaves nothing attached behind it
// but what it hands to the tracer's Pending (detaches and deferred
// injections, finished between jobs).
#pragma once

#include "core/error.h"
#include "core/mutex.h"
#include "enforcer/inject/pending.h"
#include "enforcer/injector.h"
#include "enforcer/sys/log.h"

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <thread>

namespace syscg::enforcer {

class Tracer {
 public:
  // `log` receives what the thread does on its own (a deferred filter that
  // failed, a target killed after its write was answered).
  // `sharing` answers, for a first restriction, whether the target's
  // memory is shared (it must outlive the tracer).
  Tracer(sys::Log& log, MemorySharing& sharing, std::chrono::milliseconds stop_deadline = std::chrono::seconds(2));
  // Starts the thread. Separate from construction because a daemon forks
  // (fuse_daemonize) after building its objects, and threads do not survive
  // fork. Jobs posted before start() wait for it.
  void start();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;
  ~Tracer();
  // Finishes the queued jobs and joins the thread (if started); idempotent.
  void stop();

  // What to install, decided on this thread right before the target is
  // touched (so a plan always sees the outcome of every earlier job).
  struct Programs {
    std::shared_ptr<const Program> program;     // null: nothing to do; empty: no_new_privs only
    std::shared_ptr<const Program> supervised;  // optional: see inject_process
    bool probe_io_uring = false;                // see inject_process
  };
  using Plan = std::function<Result<Programs>()>;
  // Runs on this thread with the outcome, before inject() returns (or, for
  // a self-move, before the next job); it may take the listener.
  using Settle = std::function<void(Result<Injection>&)>;

  // Makes process `tgid` enforce what `plan` says. For a self-move
  // (`self_writer` is the writer's thread id) it returns as soon as the
  // target is seized and interrupted, so the caller can answer the write;
  // the injection then completes on this thread, and a target whose
  // injection fails after that point is killed (fail closed). Otherwise it
  // returns once the filter is in, with the children forked before it (they
  // lack the filter). With `defer`, a target that cannot be stopped in time
  // gets its filter when it stops, before it runs any user instruction.
  // `pin`: see inject_process. A plan that fails is settled with its error.
  Result<std::vector<pid_t>> inject(pid_t tgid, Plan plan, Settle settle, std::optional<pid_t> self_writer, bool defer,
                                    sys::UniqueFd pin);

  // Runs `job` on this thread, after the jobs before it; returns at once.
  void post(std::function<void()> job);

  // The seccomp filters of thread `tid` (see read_filters in injector.h),
  // waiting at most `wait` for its stop. Only from a job (this thread).
  Result<std::vector<Program>> filters_of(pid_t tid, std::chrono::milliseconds wait);

 private:
  void run();
  // inject()'s job, on this thread: plan, inject, settle, answer.
  void run_injection(pid_t tgid, const Plan& plan, const Settle& settle, std::optional<pid_t> self_writer, bool defer,
                     const sys::UniqueFd& pin, std::promise<Status>& interrupted,
                     std::promise<Result<std::vector<pid_t>>>& done);

  sys::Log& log_;
  MemorySharing& sharing_;
  const std::chrono::milliseconds deadline_;
  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> jobs_ SYSCG_GUARDED_BY(mu_);
  bool stopping_ SYSCG_GUARDED_BY(mu_) = false;
  // Touched only by the thread (jobs and run()): no lock.
  inject::Pending pending_;
  std::thread thread_;
};

}  // namespace syscg::enforcer
