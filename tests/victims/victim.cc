// victim: a small program for the enforcer's integration tests. Tests move
// it into groups and watch what its system calls return; it never installs
// a filter itself. Modes:
//   victim probe CALL...     make each call once, print "CALL ok|EPERM|...";
//                            CALL is getppid, uname, execve, clone3, fork
//                            (glibc's, with its clone fallback), pthread
//                            (create and join), dumpable, int80_getppid
//   victim serve             print "ready", then per stdin line CALL make it
//                            and print the result (blocked in read meanwhile);
//                            the line "signals" prints how many SIGRTMIN it
//                            has received; "vfork MS" vforks a child that
//                            sleeps MS (the reply comes after it ends);
//                            "listener" installs an allow-all filter with a
//                            seccomp listener of its own and keeps it
//                            (print "listener ok|ERR"); "exittrap" /
//                            "clonetrap" install a filter of its own
//                            refusing exit / clone with EPERM (print
//                            "exittrap ok");
//                            "clonefiles" starts a process (not a thread)
//                            sharing its fd table, which keeps copying fd N
//                            and serves any seccomp listener it gets (print
//                            "clonefiles N PID"); "spawn IN OUT" forks a
//                            `victim serve` on the FIFOs IN and OUT (print
//                            "spawned PID")
//   victim threads N [diverge]  N threads calling getppid; stdin "report"
//                            prints one result per thread; with "diverge" the
//                            first thread installs a private allow-all filter
//                            on itself, so TSYNC from another thread fails
//   victim sleep MS          print "ready", nanosleep MS, print "slept E rc=R"
//   victim wait MS           print "ready", fork a child sleeping MS, wait4
//                            it, print "waited ok|ERR"
//   victim forkstorm         fork children until stdin closes; each child
//                            calls getppid every 2 ms for 100 ms
//   victim vfork MS          vfork a child that sleeps MS: the parent
//                            cannot stop meanwhile
//   victim trace PID         PTRACE_SEIZE PID and hold it until stdin closes
//   victim calls N           make N raw getppid calls, exit 0 (benchmarks)
//   victim spread N          for `syscg record`: forks N children that exec
//                            `victim probe uname` at once, vforks one more
//                            that does the same, forks one that makes 7 raw
//                            getpgrp calls, runs 4 threads of 25 raw getppid
//                            calls, makes one i386 getppid (int 0x80), one
//                            x32 getpid and one call numbered 1000; waits
//                            for every child; exit status 0 when all went
//                            as planned (N+1 "uname ok" lines on stdout)
// CALL: getppid, uname, int80_getppid (i386 getppid through int 0x80),
// execve (of a path that does not exist: ENOENT means the call ran),
// dumpable (prctl(PR_GET_DUMPABLE): "ok" when 1, else "not-dumpable").
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <latch>
#include <string>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <pthread.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace {

long int80(long nr) {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(nr) : "r8", "r9", "r10", "r11", "memory");
  return ret;
}

std::string errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    default: return ::strerrorname_np(e) ? ::strerrorname_np(e) : std::to_string(e);
  }
}

// Makes one call; "ok" or the errno's name.
std::string call(const std::string& name) {
  long r;
  if (name == "getppid") {
    r = syscall(SYS_getppid);
  } else if (name == "uname") {
    utsname u{};
    r = syscall(SYS_uname, &u);
  } else if (name == "execve") {
    char* const argv[] = {nullptr};
    r = syscall(SYS_execve, "/nonexistent/syscg-victim", argv, argv);
  } else if (name == "dumpable") {
    r = prctl(PR_GET_DUMPABLE);
    if (r == 0) return "not-dumpable";
  } else if (name == "clone3") {
    // A zero-sized clone_args: EINVAL where clone3 runs at all.
    r = syscall(SYS_clone3, nullptr, 0);
  } else if (name == "fork") {
    // glibc's fork: clone3 first, clone when that says ENOSYS.
    const pid_t child = fork();
    if (child == 0) _exit(0);
    int status = 0;
    r = child < 0 ? -1 : (waitpid(child, &status, 0) == child && WIFEXITED(status) ? 0 : -1);
  } else if (name == "pthread") {
    pthread_t t;
    const int e = pthread_create(
        &t, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
    if (e != 0) return errname(e);
    r = pthread_join(t, nullptr) == 0 ? 0 : -1;
  } else if (name == "int80_getppid") {
    r = int80(64);  // i386 __NR_getppid
    if (r < 0 && r > -4096) {
      errno = static_cast<int>(-r);
      r = -1;
    }
  } else {
    return "unknown";
  }
  return r < 0 ? errname(errno) : "ok";
}

std::atomic<int> rt_signals{0};
void on_rt_signal(int) { ++rt_signals; }

void say(const std::string& s) {
  std::string line = s + "\n";
  (void)!write(STDOUT_FILENO, line.data(), line.size());
}

// A one-instruction ALLOW filter on the calling thread only (no TSYNC).
bool private_filter() {
  sock_filter allow{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
  sock_fprog prog{1, &allow};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

int threads(int n, bool diverge) {
  const auto count = static_cast<std::size_t>(n);
  std::vector<std::atomic<int>> last(count);
  // The "report" generation each thread's last call started in: a report
  // waits for a call of every thread made after its line was read.
  std::vector<std::atomic<long>> seen(count);
  std::atomic<long> generation{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  std::latch started(n);
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&, i] {
      if (diverge && i == 0 && !private_filter()) std::abort();
      started.count_down();
      while (!stop) {
        const long g = generation.load();
        last[static_cast<std::size_t>(i)] = syscall(SYS_getppid) < 0 ? errno : 0;
        seen[static_cast<std::size_t>(i)] = g;
        // Pacing only (the thread keeps calling, ~1000 times a second).
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  started.wait();
  say("ready");
  for (std::string line; std::getline(std::cin, line);) {
    if (line != "report") continue;
    const long g = ++generation;
    // Every thread calls again: a bounded wait for that state, not a pause.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    const auto all_called = [&] {
      for (auto& s : seen)
        if (s < g) return false;
      return true;
    };
    while (!all_called() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      out += seen[i] < g ? std::string("no-call") : last[i] == 0 ? std::string("ok") : errname(last[i]);
      out += ' ';
    }
    say(out);
  }
  stop = true;
  for (auto& t : ts) t.join();
  return 0;
}

int lowest_free_fd() {
  const int fd = dup(0);
  close(fd);
  return fd;
}

bool is_listener(int fd) {
  char link[256] = {};
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (readlink(path.c_str(), link, sizeof link - 1) < 0) return false;
  return std::string(link).find("seccomp notify") != std::string::npos;
}

// Answers every notification on `fd` with CONTINUE, forever: what a process
// holding a member's listener could do.
[[noreturn]] void serve_listener(int fd) {
  for (;;) {
    alignas(seccomp_notif) unsigned char req_buf[512] = {};
    auto* req = reinterpret_cast<seccomp_notif*>(req_buf);
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
      if (errno == ENOENT || errno == EINTR) continue;
      _exit(9);
    }
    alignas(seccomp_notif_resp) unsigned char resp_buf[512] = {};
    auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf);
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
  }
}

// A filter of its own: close(n) fails with EPERM, everything else runs.
// A filter of its own that refuses `nr` with EPERM.
bool refuse(unsigned nr) {
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

int spread(int n) {
  std::vector<pid_t> children;
  const auto exec_probe = [] {
    execl("/proc/self/exe", "victim", "probe", "uname", nullptr);
    _exit(127);
  };
  for (int i = 0; i < n; ++i) {
    const pid_t c = fork();
    if (c == 0) exec_probe();
    children.push_back(c);
  }
  const pid_t v = vfork();
  if (v == 0) exec_probe();
  children.push_back(v);
  const pid_t g = fork();
  if (g == 0) {
    for (int i = 0; i < 7; ++i) syscall(SYS_getpgrp);
    _exit(0);
  }
  children.push_back(g);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([] {
      for (int i = 0; i < 25; ++i) syscall(SYS_getppid);
    });
  for (auto& t : ts) t.join();
  int80(64);                         // i386 getppid
  syscall(0x40000000 | SYS_getpid);  // x32 (ENOSYS where the kernel has no x32)
  syscall(1000);                     // no such call: ENOSYS
  int failed = 0;
  for (pid_t c : children) {
    int status = 0;
    if (c < 0 || waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "probe") {
    for (int i = 2; i < argc; ++i) say(std::string(argv[i]) + " " + call(argv[i]));
    return 0;
  }
  if (mode == "serve") {
    struct sigaction sa {};
    sa.sa_handler = on_rt_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGRTMIN, &sa, nullptr);
    signal(SIGTRAP, on_rt_signal);  // a handler that injection must leave in place
    say("ready");
    for (std::string line; std::getline(std::cin, line);) {
      if (line.starts_with("vfork ")) {
        const long ms = std::atol(line.c_str() + 6);
        if (vfork() == 0) {
          // The behaviour under test: the parent waits, unstoppable, meanwhile.
          usleep(static_cast<useconds_t>(ms * 1000));
          _exit(0);
        }
        say("vforked");
        continue;
      }
      if (line == "exittrap" || line == "clonetrap") {
        say(line + (refuse(line == "exittrap" ? SYS_exit : SYS_clone) ? " ok" : " ERR"));
        continue;
      }
      if (line == "clonefiles") {
        const int n = lowest_free_fd();
        const long c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
        if (c == 0) {
          for (;;) {
            const int got = fcntl(n, F_DUPFD, 200);
            if (got >= 0) {
              if (is_listener(got)) serve_listener(got);
              close(got);
            }
          }
        }
        say("clonefiles " + std::to_string(n) + " " + std::to_string(c));
        continue;
      }
      if (line.starts_with("spawn ")) {
        const std::string rest = line.substr(6);
        const auto sp = rest.find(' ');
        const std::string in = rest.substr(0, sp), out = rest.substr(sp + 1);
        const pid_t c = fork();
        if (c == 0) {
          const int i = open(in.c_str(), O_RDONLY), o = open(out.c_str(), O_WRONLY);
          dup2(i, 0);
          dup2(o, 1);
          close(i);
          close(o);
          execl("/proc/self/exe", "victim", "serve", nullptr);
          _exit(127);
        }
        say("spawned " + std::to_string(c));
        continue;
      }
      if (line == "listener") {
        sock_filter allow{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
        sock_fprog prog{1, &allow};
        const bool ok = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
                        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) >= 0;
        say(std::string("listener ") + (ok ? "ok" : errname(errno)));
        continue;
      }
      say(line + " " + (line == "signals" ? std::to_string(rt_signals.load()) : call(line)));
    }
    return 0;
  }
  if (mode == "threads" && argc > 2) return threads(std::atoi(argv[2]), argc > 3 && std::string(argv[3]) == "diverge");
  if (mode == "sleep" && argc > 2) {
    say("ready");
    const long ms = std::atol(argv[2]);
    timespec ts{ms / 1000, (ms % 1000) * 1000000};
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = nanosleep(&ts, nullptr);
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    say("slept " + std::to_string(elapsed) + " rc=" + std::to_string(rc));
    return 0;
  }
  if (mode == "wait" && argc > 2) {
    say("ready");
    const pid_t child = fork();
    if (child == 0) {
      // The behaviour under test: the parent is blocked in wait4 meanwhile.
      usleep(static_cast<useconds_t>(std::atol(argv[2]) * 1000));
      _exit(3);
    }
    int status = 0;
    const pid_t r = wait4(child, &status, 0, nullptr);
    say(r == child && WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "waited ok" : "waited " + errname(errno));
    return 0;
  }
  if (mode == "forkstorm") {
    signal(SIGCHLD, SIG_IGN);  // children reap themselves
    std::atomic<bool> stop{false};
    std::thread reader([&] {
      std::string line;
      while (std::getline(std::cin, line)) {
      }
      stop = true;
    });
    say("ready");
    while (!stop) {
      if (fork() == 0) {
        for (int i = 0; i < 50; ++i) {
          syscall(SYS_getppid);
          usleep(2000);  // the storm's pace (each child lives ~100 ms), not a wait
        }
        _exit(0);
      }
      usleep(500);  // the storm's pace: a fork every 0.5 ms
    }
    reader.join();
    return 0;
  }
  if (mode == "vfork" && argc > 2) {
    say("ready");
    if (vfork() == 0) {
      // The behaviour under test: the parent cannot stop meanwhile.
      usleep(static_cast<useconds_t>(std::atol(argv[2]) * 1000));
      _exit(0);
    }
    return 0;
  }
  if (mode == "trace" && argc > 2) {
    const pid_t target = static_cast<pid_t>(std::atoi(argv[2]));
    if (ptrace(PTRACE_SEIZE, target, nullptr, nullptr) != 0) {
      say("seize " + errname(errno));
      return 1;
    }
    say("ready");
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
  }
  if (mode == "calls" && argc > 2) {
    for (long i = std::atol(argv[2]); i > 0; --i) syscall(SYS_getppid);
    return 0;
  }
  if (mode == "spread" && argc > 2) return spread(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: victim probe|serve|threads N|sleep MS|wait MS|forkstorm|vfork MS|trace PID\n");
  return 2;
}
