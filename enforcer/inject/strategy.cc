#include "enforcer/inject/strategy.h"

#include "enforcer/inject/install.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace syscg::enforcer::inject {
namespace {

// Seizes and interrupts every thread of the target not in `known`,
// re-listing until no new one appears (a thread may create threads until it
// stops). A number listed may name another process's thread by the time it
// is seized: only threads still in the target's task list after the seize
// are kept (the others are let go at their stop). A thread that is exiting
// (a zombie leader) is skipped. With `relist` false one listing is enough:
// threads created later inherit whatever TSYNC installs, and every thread
// listed is interrupted.
Status seize_new(Target& target, std::set<pid_t>& known, Threads& out, bool relist = true) {
  for (bool again = true; again;) {
    bool grew = false;
    for (pid_t t : target.threads()) {
      if (!known.insert(t).second) continue;
      auto s = target.seize(t);
      if (!s) {
        if (s.error().code == Errc::no_process) continue;
        return s.error();
      }
      if (!s.value()->interrupt()) continue;  // exited
      // (The leader's number is the process's own: the caller's pin vouches.)
      if (t != target.tgid() && !target.in_group(t)) continue;
      out.push_back(std::move(s.value()));
      grew = true;
    }
    again = grew && relist;
  }
  return outcome::success();
}

// Waits until one of `threads` has stopped whose filter chain is no longer
// than any other thread's; threads that exit are dropped. Only such a
// thread may install with TSYNC: from a thread with a longer chain (a
// filter of its own), TSYNC would succeed and hand that filter to every
// other thread too; from the shortest it fails where chains diverge, and
// each thread then gets ours alone. Errors: limit past the deadline,
// no_process when none is left.
Result<Threads::iterator> wait_any(Target& target, Threads& threads, Deadline deadline) {
  for (;;) {
    unsigned shortest = ~0u;
    if (threads.size() > 1)
      for (auto& t : threads)
        if (auto n = target.chain_length(t->tid())) shortest = std::min(shortest, *n);
    for (auto it = threads.begin(); it != threads.end();) {
      auto stopped = (*it)->poll_stop();
      if (!stopped) {
        it = threads.erase(it);
        continue;
      }
      if (stopped.value()) {
        if (threads.size() == 1) return it;
        if (auto n = target.chain_length((*it)->tid()); n && *n <= shortest) return it;
      }
      ++it;
    }
    if (threads.empty()) return make_error(Errc::no_process, "the process exited");
    if (std::chrono::steady_clock::now() > deadline) return make_error(Errc::limit, "no thread stopped in time");
    target.pause();
  }
}

// Stops every other thread of the target: those seized already, and any new one.
Status stop_rest(Target& target, std::set<pid_t>& known, Threads& others, Deadline deadline) {
  BOOST_OUTCOME_TRY(seize_new(target, known, others));
  for (auto it = others.begin(); it != others.end();) {
    if (auto stop = (*it)->wait_stop(deadline); !stop) {
      if (stop.error().code != Errc::no_process) return stop.error();
      it = others.erase(it);
      continue;
    }
    ++it;
  }
  return outcome::success();
}

// With every thread stopped: the filter into each one on its own.
Status install_each(Thread& first, Threads& others, const Program& program) {
  BOOST_OUTCOME_TRY(one, install(first, program, false));
  if (one.rc != 0) return make_error(Errc::invalid, "seccomp without TSYNC returned a thread id");
  for (auto& s : others) {
    BOOST_OUTCOME_TRY(each, install(*s, program, false));
    if (each.rc != 0) return make_error(Errc::invalid, "seccomp without TSYNC returned a thread id");
  }
  return outcome::success();
}

NoListener why_not(long rc) {
  return rc == -EBUSY    ? NoListener::own_listener
         : rc == -EINVAL ? NoListener::unsupported
         : rc == -EPERM  ? NoListener::refused
                         : NoListener::threads_diverged;
}

}  // namespace

Result<Injection> inject_process(Target& target, Pending& pending, const Request& req,
                                 const std::function<void(const Status&)>& after_interrupt) {
  const pid_t tgid = target.tgid();
  Injection out;
  Threads threads;  // seized and interrupted
  std::set<pid_t> known;
  if (req.self_writer) {
    // The writer itself: it is the one about to return to user space.
    auto seized = target.seize(*req.self_writer);
    if (!seized) {
      after_interrupt(seized.error());
      return seized.error();
    }
    auto interrupted = seized.value()->interrupt();
    after_interrupt(interrupted);
    BOOST_OUTCOME_TRY(interrupted);
    known.insert(*req.self_writer);
    threads.push_back(std::move(seized.value()));
  } else {
    // Every thread: whichever stops first installs for all (TSYNC reaches
    // threads blocked in the kernel, e.g. a leader waiting in vfork), and
    // a zombie leader (pthread_exit) does not hide its live threads.
    Status all = seize_new(target, known, threads, false);
    if (all && threads.empty()) all = make_error(Errc::no_process, fmt::format("process {} has exited", tgid));
    after_interrupt(all);
    BOOST_OUTCOME_TRY(all);
  }
  auto stopped = wait_any(target, threads, req.deadline);
  if (!stopped) {
    if (req.defer && !req.probe_io_uring && stopped.error().code == Errc::limit) {
      // Every thread is blocked in the kernel: each stops before it runs
      // another instruction, and the first installs the filter then.
      pending.defer(std::move(threads), req.program);
      if (req.supervised) out.why = NoListener::not_stopped;
      return out;
    }
    return stopped.error();
  }
  Threads first_only;
  first_only.splice(first_only.begin(), threads, stopped.value());
  Thread& first = *first_only.front();
  Threads& others = threads;
  // The process identified before is still the one with this number (its
  // pidfd has not turned readable), so the threads seized are its own.
  const auto gone = [&] {
    return make_error(Errc::no_process, fmt::format("process {} exited; its number may name another", tgid));
  };
  if (target.ended()) return gone();

  if (req.probe_io_uring) {
    BOOST_OUTCOME_TRY(stop_rest(target, known, others, req.deadline));
    if (target.ended()) return gone();
    const auto probe = [&](Thread& t) -> Status {
      BOOST_OUTCOME_TRY(used, uses_io_uring(t));
      if (used)
        return make_error(
            Errc::busy, fmt::format("process {} has used io_uring (thread {}), which its group denies", tgid, t.tid()));
      return outcome::success();
    };
    BOOST_OUTCOME_TRY(probe(first));
    for (auto& t : others) {
      BOOST_OUTCOME_TRY(probe(*t));
    }
  }

  if (req.supervised && !req.supervised->empty() && !target.in_our_user_namespace()) {
    out.why = NoListener::user_namespace;  // an ERRNO filter below
  } else if (req.supervised && !req.supervised->empty()) {
    // Every thread stopped, so that the children listed are exactly those
    // forked before the filter, and so that no new holder of its memory can
    // appear. (The listener itself never enters the process's table:
    // install.h.) A process sharing its memory could make it dumpable again
    // and take the listener from the private thread: none then.
    auto all_stopped = stop_rest(target, known, others, req.deadline);
    if (all_stopped && target.ended()) return gone();
    if (all_stopped && target.shares_memory()) {
      out.why = NoListener::shared_memory;
    } else if (all_stopped) {
      const auto children = target.children();  // stable: every thread is stopped
      out.unfiltered.assign(children.begin(), children.end());
      BOOST_OUTCOME_TRY(got, install(first, *req.supervised, true, tgid));
      if (got.rc == 0) {
        out.listener = std::move(got.listener);
        if (!out.listener) out.why = NoListener::lost;
        return out;
      }
      out.why = got.no_thread ? NoListener::no_thread : why_not(got.rc);
      if (got.rc != -ESRCH) {
        BOOST_OUTCOME_TRY(plain, install(first, req.program, true));
        if (plain.rc == 0) return out;
      }
      BOOST_OUTCOME_TRY(install_each(first, others, req.program));
      return out;
    } else if (all_stopped.error().code != Errc::limit) {
      return all_stopped.error();
    } else {
      out.why = NoListener::not_stopped;  // the threads that did stop are let go
    }
  }

  // Children forked so far run without the new filter; with this thread
  // stopped, a single-threaded process cannot add to them.
  const auto before = target.children();
  BOOST_OUTCOME_TRY(got, install(first, req.program, true));
  if (got.rc == 0) {
    out.unfiltered.assign(before.begin(), before.end());
    // Other threads ran until TSYNC reached them and may have forked in
    // that window: report every new child too (the caller keeps members).
    for (pid_t c : target.children())
      if (!before.contains(c)) out.unfiltered.push_back(c);
    return out;
  }

  // TSYNC refused: thread rc's filters diverge from ours. Stop every thread
  // and inject each one on its own.
  BOOST_OUTCOME_TRY(stop_rest(target, known, others, req.deadline));
  const auto children = target.children();  // every thread is stopped now
  BOOST_OUTCOME_TRY(install_each(first, others, req.program));
  out.unfiltered.assign(children.begin(), children.end());
  return out;
}

}  // namespace syscg::enforcer::inject
