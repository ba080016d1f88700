#include "enforcer/tracer.h"

#include "enforcer/pidfd.h"
#include "enforcer/shutdown_signals.h"

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>
#include <csignal>
#include <cstring>

namespace syscg::enforcer {

Tracer::Tracer(sys::Log& log, MemorySharing& sharing, std::chrono::milliseconds stop_deadline)
    : log_(log), sharing_(sharing), deadline_(stop_deadline) {}

void Tracer::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

Tracer::~Tracer() { stop(); }

void Tracer::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Tracer::post(std::function<void()> job) {
  {
    MutexLock lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Tracer::run() {
  block_shutdown_signals();
  bool pending = false;
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(mu_);
      // With work pending, wake up regularly to finish it: the stops it
      // waits for wake no one (see inject/ptrace_sys.cc).
      if (pending) {
        if (!stopping_ && jobs_.empty()) cv_.wait_for(lock, std::chrono::milliseconds(20));
      } else {
        while (!stopping_ && jobs_.empty()) cv_.wait(lock);
      }
      if (stopping_ && jobs_.empty()) break;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
    }
    // Nothing thrown may end this thread (std::terminate): a job that
    // throws is logged; an injection job fails closed itself (inject()).
    try {
      if (job) job();
      pending = pending_.finish(log_);
    } catch (const std::exception& e) {
      log_.error("tracer: a job failed: {}", e.what());
    }
  }
  // ptrace belongs to this thread: what is left is let go here.
  pending_.drop(log_);
}

Result<std::vector<pid_t>> Tracer::inject(pid_t tgid, Plan plan, Settle settle, std::optional<pid_t> self_writer,
                                          bool defer, sys::UniqueFd pin) {
  auto interrupted = std::make_shared<std::promise<Status>>();
  auto done = std::make_shared<std::promise<Result<std::vector<pid_t>>>>();
  auto interrupted_future = interrupted->get_future();
  auto done_future = done->get_future();
  auto shared_pin = std::make_shared<sys::UniqueFd>(std::move(pin));
  post([=, this, plan = std::move(plan), settle = std::move(settle)] {
    try {
      run_injection(tgid, plan, settle, self_writer, defer, *shared_pin, *interrupted, *done);
    } catch (const std::exception& e) {
      // Whatever state the target is in, it must not run on without its
      // filter: kill it through the pin (the number may name another
      // process by now), and fail the write if it is still waiting.
      const bool killed = kill_by(*shared_pin);
      log_.error("injection into {} failed: {}; {}", tgid, e.what(), killed ? "killed it" : "could not kill it");
      const Error failed = make_error(Errc::io, fmt::format("injection into {} failed: {}", tgid, e.what()));
      try {
        interrupted->set_value(failed);
      } catch (const std::future_error&) {  // answered already
      }
      try {
        done->set_value(failed);
      } catch (const std::future_error&) {
      }
    }
  });
  if (!self_writer) return done_future.get();
  BOOST_OUTCOME_TRY(interrupted_future.get());
  return std::vector<pid_t>{};
}

void Tracer::run_injection(pid_t tgid, const Plan& plan, const Settle& settle, std::optional<pid_t> self_writer,
                           bool defer, const sys::UniqueFd& pin, std::promise<Status>& interrupted,
                           std::promise<Result<std::vector<pid_t>>>& done) {
  auto programs = plan();
  if (!programs) {
    // Nothing possible: the target is not touched.
    Result<Injection> failed = programs.error();
    settle(failed);  // may say what became of the target (killed: gone)
    interrupted.set_value(failed.error());
    done.set_value(failed.error());
    return;
  }
  if (!programs.value().program) {  // nothing to install
    interrupted.set_value(outcome::success());
    done.set_value(std::vector<pid_t>{});
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + deadline_;
  bool answered = false;
  auto result = inject_process(
      tgid, *programs.value().program, programs.value().supervised.get(), self_writer, deadline,
      [&](const Status& s) {
        answered = static_cast<bool>(s);
        interrupted.set_value(s);
      },
      defer, pin, pending_, sharing_, programs.value().probe_io_uring);
  if (!result && self_writer && answered) {
    // The write was answered already: the target must not run on unfiltered.
    // Through the pin where there is one: the number may name another
    // process by now.
    const bool killed = pin ? kill_by(pin) : ::kill(tgid, SIGKILL) == 0;
    if (!killed && errno != ESRCH)
      log_.error("injection into {} failed after its own write ({}), and kill failed: {}", tgid, result.error().message,
                 std::strerror(errno));
    else
      log_.error("injection into {} failed after its own write ({}); killed it", tgid, result.error().message);
  }
  settle(result);
  if (result)
    done.set_value(std::move(result.value().unfiltered));
  else
    done.set_value(result.error());
}

Result<std::vector<Program>> Tracer::filters_of(pid_t tid, std::chrono::milliseconds wait) {
  return read_filters(tid, std::chrono::steady_clock::now() + wait, pending_);
}

}  // namespace syscg::enforcer
