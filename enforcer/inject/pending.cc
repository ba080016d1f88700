#include "enforcer/inject/pending.h"

#include "enforcer/inject/install.h"
#include "enforcer/inject/ptrace_sys.h"

#include <sys/wait.h>

namespace syscg::enforcer::inject {

void Pending::defer(Threads threads, Program program) { deferred_.push_back({std::move(threads), std::move(program)}); }

bool Pending::finish(sys::Log& log) {
  std::erase_if(deferred_, [&](Deferred& d) {
    for (auto it = d.threads.begin(); it != d.threads.end();) {
      auto stopped = (*it)->poll_stop();
      if (!stopped) {
        it = d.threads.erase(it);  // gone
        continue;
      }
      if (!stopped.value()) {
        ++it;
        continue;
      }
      if (auto rc = install(**it, d.program, true); !rc || rc.value().rc != 0) {
        // It must not run on without the filter its group now demands.
        const pid_t tid = (*it)->tid();
        (*it)->kill();
        log.error("deferred filter for {} failed ({}); killed it", tid,
                  rc ? fmt::format("seccomp returned {}", rc.value().rc) : rc.error().message);
      }
      return true;  // done: the threads are let go as the entry goes
    }
    return d.threads.empty();
  });
  finish_detaches();
  return !detaches_.empty() || !deferred_.empty();
}

bool Pending::finish_detaches() {
  std::erase_if(detaches_, [](pid_t tid) {
    auto r = poll_wait(tid);
    if (!r) return true;           // no longer ours (reaped, or never was)
    if (!r.value()) return false;  // still waiting for its stop
    const int status = *r.value();
    if (WIFSTOPPED(status)) (void)detach(tid, stop_signal(status));  // fails only if it died meanwhile: gone too
    return true;                                                     // detached or exited
  });
  return !detaches_.empty();
}

void Pending::drop(sys::Log& log) {
  // A deferred tightening was acknowledged: its target must not run on
  // without the filter once the tracer is gone. Fail closed.
  for (auto& d : deferred_) {
    if (d.threads.empty()) continue;
    const pid_t tid = d.threads.front()->tid();
    d.threads.front()->kill();
    log.error("deferred filter for {} not installed before shutdown; killed it", tid);
  }
  deferred_.clear();  // their destructors may add detaches
  (void)finish_detaches();
  detaches_.clear();
}

}  // namespace syscg::enforcer::inject
