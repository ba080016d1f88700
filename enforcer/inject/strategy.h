// The per-process strategy: which thread installs what, and every fallback,
// written against inject::Target (so the unit tests drive each fallback
// with a fake). See injector.h for the contract it implements.
#pragma once

#include "enforcer/inject/pending.h"
#include "enforcer/inject/target.h"

#include <cstdint>
#include <functional>
#include <optional>

namespace syscg::enforcer {

// Why a supervised filter went in without a listener (the plain one went in
// instead): the chain holds a listener already (the process brought its
// own; one per chain), the threads' filters diverge (TSYNC cannot give them
// one filter), a thread could not be stopped (it could fork while the
// listener sits in the fd table), the private thread that takes the
// listener could not be made (clone refused), another process shares its
// memory (CLONE_VM: it could make it dumpable and take the listener); the
// kernel cannot combine a
// listener with TSYNC (before 5.7) or name a thread with a pidfd (6.9).
enum class NoListener : std::uint8_t {
  none,
  own_listener,
  threads_diverged,
  not_stopped,
  no_thread,
  shared_memory,
  unsupported,
  refused,         // the chain forbids new listeners: a supervised filter of a previous daemon
  user_namespace,  // it lives in another user namespace than the daemon: its owner could take the listener
  lost
};

struct Injection {
  std::vector<pid_t> unfiltered;  // children forked before the filter reached their parent
  sys::UniqueFd listener;         // the supervised filter's listener
  NoListener why = NoListener::none;
};

namespace inject {

struct Request {
  const Program& program;
  const Program* supervised = nullptr;
  std::optional<pid_t> self_writer;
  Deadline deadline;
  bool defer = false;
  bool probe_io_uring = false;
};

// inject_process (injector.h) on `target`; deferred work goes to `pending`.
Result<Injection> inject_process(Target& target, Pending& pending, const Request& request,
                                 const std::function<void(const Status&)>& after_interrupt);

}  // namespace inject
}  // namespace syscg::enforcer
