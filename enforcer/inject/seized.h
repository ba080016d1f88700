// A thread attached with PTRACE_SEIZE: the real inject::Thread. RAII: the
// destructor detaches (delivering a signal the stop swallowed), or leaves
// the thread to Pending when it has not stopped yet.
//
// Remote calls run through one of the target's own `syscall` instructions
// (the one it stopped after, else one in its vDSO), single-stepped with
// orig_rax = -1 so the kernel's restart logic never rewinds them; the
// interrupted call restarts normally once the saved registers are back (the
// stop is on the signal path). EXITKILL is on only inside the window.
#pragma once

#include "enforcer/inject/pending.h"
#include "enforcer/inject/target.h"

#include <sys/user.h>

namespace syscg::enforcer::inject {

class Seized final : public Thread {
 public:
  // PTRACE_SEIZE. Errors: no_process (ESRCH, or EPERM for a task that is
  // exiting); busy when another tracer holds it; permission otherwise.
  static Result<std::unique_ptr<Seized>> seize(pid_t tid, Pending& pending);
  Seized(const Seized&) = delete;
  Seized& operator=(const Seized&) = delete;
  ~Seized() override;

  pid_t tid() const override { return tid_; }
  bool attached() const override { return tid_ > 0; }
  Status interrupt() override;
  Result<bool> poll_stop() override;
  Status wait_stop(Deadline deadline) override;
  Result<SeccompState> seccomp_state() override;
  Result<std::vector<Program>> filters() override;
  Result<Program> filter(unsigned index) override;
  Result<std::uint64_t> open_window(std::span<const unsigned char> image) override;
  Status write(std::uint64_t addr, const void* data, std::size_t len) override;
  Result<long> call(long nr, std::uint64_t a0, std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0,
                    int serve = -1) override;
  Status restore() override;
  Status close_window() override;
  Result<Spawned> spawn_private(pid_t tgid) override;
  sys::UniqueFd take_fd(int fd) override;
  void kill() override;

 private:
  Seized(pid_t tid, Pending& pending) : tid_(tid), pending_(pending) {}
  Result<std::uint64_t> find_gadget(const user_regs_struct& regs);
  void saw_stop(int status);
  // The thread is gone (exited, or reaped elsewhere): nothing to detach.
  Error gone(std::string what);

  pid_t tid_;
  Pending& pending_;
  int pending_signal_ = 0;  // a signal-delivery-stop's signal, re-sent at detach
  bool stopped_ = false;
  bool owned_ = false;  // spawned by us (spawn_private): killed, never let go
  // The window (open_window .. restore).
  struct Window {
    user_regs_struct regs{};
    std::uint64_t mask = 0;
    std::uint64_t gadget = 0;
    std::uint64_t scratch = 0;
    std::vector<unsigned char> old;  // the stack bytes the image covers
  } window_;
};

}  // namespace syscg::enforcer::inject
