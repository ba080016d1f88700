// Mutexes the compiler checks: Clang's thread-safety analysis
// (-Wthread-safety, the SYSCG_THREAD_SAFETY build) proves that every member
// marked SYSCG_GUARDED_BY(mu) is touched only with `mu` held, and that
// functions marked SYSCG_REQUIRES / SYSCG_EXCLUDES are called accordingly.
// libstdc++'s std::mutex carries no annotations, hence these thin wrappers;
// under GCC the macros expand to nothing.
//
// The lock order across the whole daemon is written down once, in
// docs/ARCHITECTURE.md ("Locks").
#pragma once

#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define SYSCG_TSA(x) __attribute__((x))
#else
#define SYSCG_TSA(x)
#endif

#define SYSCG_CAPABILITY(x) SYSCG_TSA(capability(x))
#define SYSCG_SCOPED_CAPABILITY SYSCG_TSA(scoped_lockable)
#define SYSCG_GUARDED_BY(x) SYSCG_TSA(guarded_by(x))
#define SYSCG_PT_GUARDED_BY(x) SYSCG_TSA(pt_guarded_by(x))
#define SYSCG_ACQUIRED_BEFORE(...) SYSCG_TSA(acquired_before(__VA_ARGS__))
#define SYSCG_ACQUIRED_AFTER(...) SYSCG_TSA(acquired_after(__VA_ARGS__))
#define SYSCG_REQUIRES(...) SYSCG_TSA(requires_capability(__VA_ARGS__))
#define SYSCG_REQUIRES_SHARED(...) SYSCG_TSA(requires_shared_capability(__VA_ARGS__))
#define SYSCG_ACQUIRE(...) SYSCG_TSA(acquire_capability(__VA_ARGS__))
#define SYSCG_ACQUIRE_SHARED(...) SYSCG_TSA(acquire_shared_capability(__VA_ARGS__))
#define SYSCG_RELEASE(...) SYSCG_TSA(release_capability(__VA_ARGS__))
#define SYSCG_RELEASE_SHARED(...) SYSCG_TSA(release_shared_capability(__VA_ARGS__))
#define SYSCG_RELEASE_GENERIC(...) SYSCG_TSA(release_generic_capability(__VA_ARGS__))
#define SYSCG_TRY_ACQUIRE(...) SYSCG_TSA(try_acquire_capability(__VA_ARGS__))
#define SYSCG_EXCLUDES(...) SYSCG_TSA(locks_excluded(__VA_ARGS__))
#define SYSCG_RETURN_CAPABILITY(x) SYSCG_TSA(lock_returned(x))
#define SYSCG_NO_THREAD_SAFETY_ANALYSIS SYSCG_TSA(no_thread_safety_analysis)

namespace syscg {

class SYSCG_CAPABILITY("mutex") Mutex {
 public:
  void lock() SYSCG_ACQUIRE() { mu_.lock(); }
  void unlock() SYSCG_RELEASE() { mu_.unlock(); }
  bool try_lock() SYSCG_TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // For the analysis only: states that the caller holds this mutex.
  void assert_held() const SYSCG_TSA(assert_capability(this)) {}

 private:
  std::mutex mu_;
};

class SYSCG_CAPABILITY("mutex") SharedMutex {
 public:
  void lock() SYSCG_ACQUIRE() { mu_.lock(); }
  void unlock() SYSCG_RELEASE() { mu_.unlock(); }
  void lock_shared() SYSCG_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() SYSCG_RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// std::lock_guard / std::unique_lock for Mutex, understood by the analysis.
// unlock()/lock() let a condition_variable_any wait on it.
class SYSCG_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) SYSCG_ACQUIRE(mu) : mu_(&mu) { mu_->lock(); }
  ~MutexLock() SYSCG_RELEASE() {
    if (held_) mu_->unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void lock() SYSCG_ACQUIRE() {
    mu_->lock();
    held_ = true;
  }
  void unlock() SYSCG_RELEASE() {
    mu_->unlock();
    held_ = false;
  }

 private:
  Mutex* mu_;
  bool held_ = true;
};

class SYSCG_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) SYSCG_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() SYSCG_RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

class SYSCG_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) SYSCG_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() SYSCG_RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Waits on a MutexLock (std::condition_variable_any).
using CondVar = std::condition_variable_any;

}  // namespace syscg
