// The enforcer's own threads (tracer, supervisor) leave libfuse's shutdown
// signals to the FUSE threads: delivered to them, SIGINT/SIGTERM/SIGHUP
// would interrupt a waitpid mid-injection or an answer mid-flight.
#pragma once

#include <cstdlib>

#include <csignal>
#include <pthread.h>

namespace syscg::enforcer {

// Call first thing on such a thread.
inline void block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  // Fails only for an invalid `how`: a failure here is a programming error.
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) std::abort();
}

}  // namespace syscg::enforcer
