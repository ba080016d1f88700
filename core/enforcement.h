// The seam between syscgfs and the enforcer.
//
// syscgfs owns the policy (the core Hierarchy) and the file semantics; the
// Enforcement behind this interface owns processes: it identifies the process
// a cgroup.procs write names, and makes members enforce their group's set.
// FUSE-free: both fs/ and enforcer/ depend on this header, neither on the
// other; fs/main.cc wires the two.
//
// Concurrency: attach(), policy_changed(), adopt() and barrier() are called
// with syscgfs's write lock held, so no two calls overlap (the injection a
// self-move's attach() leaves to the tracer thread may still be settling
// when the next one begins; the tracer runs them in order). The
// queries (sync, identify, thread_group, alive, stricter, may_subvert) come
// from any FUSE worker at any time, also during those calls; the
// MembershipListener is called from the enforcer's threads at any time. The
// lock order across both sides is in docs/ARCHITECTURE.md. The enforcer
// implements it (enforcer/enforcer.h); tests use a recording fake.
#pragma once

#include "core/error.h"
#include "core/hierarchy.h"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <span>
#include <vector>
#include <sys/types.h>

namespace syscg {

// The process a cgroup.procs write resolved to.
struct Process {
  Pid tgid;   // the thread group: any thread id moves the whole process
  uid_t uid;  // real, effective and saved uid
  uid_t euid;
  uid_t suid;
  std::uint64_t start_time;  // with tgid, names exactly one process
};

struct Fork {
  Pid parent;
  Pid child;
};

// What a tightening did: the children members had forked before they got
// the new filter (they lack it), and the members that now enforce the new
// set. A member that is neither (it exited, or was killed because it could
// not be given the set) does not vouch for its children.
struct Tightened {
  std::vector<Fork> unfiltered;
  std::vector<Pid> filtered;
};

// Numbers a member cannot use although its group now allows them, and why
// (a token the README explains: "tightened", "own-listener", ...).
struct Loss {
  SyscallSet numbers;
  std::string_view reason;
};

// How the enforcer reports processes that join or leave on their own:
// children forked by members are members too (cgroup semantics), and exited
// processes leave. Implemented by syscgfs; may be called from any thread.
class MembershipListener {
 public:
  virtual ~MembershipListener() = default;
  // Returns true when the child is now a member (its parent is one).
  virtual bool forked(Pid parent, Pid child) = 0;
  virtual void exited(Pid pid) = 0;
  // A member's call to `nr` reached the supervisor: 0 when its group
  // allows it now, else the errno its group denies it with (denials are
  // counted there). nullopt when `tgid` is not a member (the caller then
  // looks further, or denies).
  virtual std::optional<int> trapped(Pid tgid, unsigned nr) = 0;
  // Member `tgid` of `group` was killed because it could not be given the
  // group's set (fail closed); `why` says what failed.
  virtual void killed(Pid tgid, GroupId group, std::string_view why) = 0;
};

class Enforcement {
 public:
  virtual ~Enforcement() = default;

  // Where fork and exit reports go; set by the composition root before any
  // other call (no object registers itself), and reset to nullptr before
  // the listener is destroyed (returns once no report is in flight).
  virtual void set_listener(MembershipListener* listener) = 0;
  // Delivers every fork and exit that happened before this call (after an
  // event overflow: once membership has been rebuilt).
  virtual void sync() = 0;
  // Holds fork and exit reports back until the lock is released: a move
  // holds it across attach() and the membership commit. Never call sync()
  // while holding it.
  virtual std::unique_lock<std::mutex> pause_events() = 0;

  // The process named by a cgroup.procs write: `written` as the user wrote it,
  // 0 meaning the writing process, whose thread id is `writer_tid`.
  // Errors: no_process (ESRCH); invalid (EINVAL) for a kernel thread, the
  // daemon itself or one of its ancestors.
  virtual Result<Process> identify(Pid written, Pid writer_tid) = 0;

  // The process (thread group) of a thread. Errors: no_process.
  virtual Result<Pid> thread_group(Pid tid) = 0;

  // Takes back a member recorded before a restart: true when `pid` still
  // names the process that started at `start_time` (a recycled pid does not).
  // Its filters are still in place (they enforce at least `allowed`, its
  // group's saved set); nothing is injected. What they deny cannot be given
  // back any more: stricter() reports it once the group allows it.
  virtual bool adopt(Pid pid, std::uint64_t start_time, const SyscallSet& allowed) = 0;

  // What member `pid` cannot use of `allowed` (its group's current set),
  // because filters cannot be removed; empty when it can use all of it.
  virtual std::vector<Loss> stricter(Pid pid, const SyscallSet& allowed) = 0;

  // Returns once every supervisor decision in flight has been answered;
  // later decisions see the hierarchy as it is now. syscgfs calls it after
  // a deny or a move is committed, before acknowledging it.
  virtual void barrier() = 0;

  // Whether a recorded member still exists; exited members leave their group.
  virtual bool alive(Pid pid) = 0;

  // Whether member `pid` holds CAP_SYS_PTRACE in its effective set (it
  // could take the supervisor's listener with ptrace, process_vm_writev or
  // pidfd_getfd where its group allows them).
  virtual bool may_subvert(Pid pid) = 0;

  // `pid` (identified as the process that started at `start_time`) is
  // about to join a group whose set is `allowed` (denied numbers return
  // their `errnos`); the request comes from
  // thread `writer_tid` (when pid is the writer's own process, the enforcer
  // must let the reply go out before the process can stop). An error
  // refuses the move: syscgfs then records nothing and returns the errno.
  // Errors: no_process (ESRCH) when the number names another process by
  // now; busy (EBUSY) when it holds an io_uring instance and `allowed`
  // keeps members from io_uring.
  virtual Status attach(Pid pid, std::uint64_t start_time, GroupId group, const SyscallSet& allowed,
                        const DenyErrnos& errnos, Pid writer_tid) = 0;

  // A policy write has been committed; each listed member must now enforce
  // its group's new set before this returns, or be killed (reported through
  // MembershipListener::killed). Returns the children members had forked
  // before they were tightened (they run without the new filter), and the
  // members that enforce the set now: syscgfs records the children as
  // members and calls again with them, until no member is left out.
  // When the writer's own process (the thread group of `writer_tid`) is
  // listed, syscgfs lists it alone, last: it is tightened like a self-move
  // (the call returns once it is interrupted, so the reply can go out).
  virtual Result<Tightened> policy_changed(std::span<const MemberPolicy> members, Pid writer_tid) = 0;
};

}  // namespace syscg
