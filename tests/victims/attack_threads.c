// attack: threads and identities — a thread id recycled on request (tidat),
// a thread serving while the main thread is in vfork (vforkthread), workers
// outliving their leader (leaderexit).
#include "attack.h"

// ---------------------------------------------------------------- recycled tids

static int target_tid;
static int tid_uname = -1;

static void* tid_thread(void* arg) {
  (void)arg;
  if (gettid() == target_tid) tid_uname = do_uname();
  return (void*)(intptr_t)gettid();
}

void tidat(int pid) {
  target_tid = pid;
  tid_uname = -1;
  for (int tries = 1; tries <= 500; ++tries) {
    const int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      say("tidat %d ns_last_pid %s", pid, en(errno));
      return;
    }
    char num[16];
    const int len = snprintf(num, sizeof num, "%d", pid - 1);
    const ssize_t w = write(fd, num, (size_t)len);
    close(fd);
    if (w != len) {
      say("tidat %d ns_last_pid-write %s", pid, en(errno));
      return;
    }
    pthread_t t;
    const int e = pthread_create(&t, NULL, tid_thread, NULL);
    if (e != 0) {
      say("tidat %d pthread_create %s", pid, en(e));
      return;
    }
    void* got;
    pthread_join(t, &got);
    if ((int)(intptr_t)got == pid) {
      say("tidat %d uname=%s tries=%d", pid, en(tid_uname), tries);
      return;
    }
  }
  say("tidat %d failed", pid);
}
// ---------------------------------------------------------------- threads

// attack vforkthread: a second thread serves stdin ("vfork MS": the main
// thread vforks a child sleeping MS and prints "vfork-done" when it ends;
// "uname": print "uname E" of a call made now) and calls uname meanwhile.
static int vfork_req[2];

static void* vfork_server(void* arg) {
  (void)arg;
  char line[64];
  for (;;) {
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 1) <= 0) {
      do_uname();
      continue;
    }
    if (!read_line(STDIN_FILENO, line, sizeof line)) exit(0);
    if (!strncmp(line, "vfork ", 6)) {
      const int ms = atoi(line + 6);
      (void)!write(vfork_req[1], &ms, sizeof ms);
    } else if (!strcmp(line, "uname")) {
      say("uname %s", en(do_uname()));
    }
  }
  return NULL;
}

int vforkthread(void) {
  if (pipe(vfork_req) != 0) return 1;
  pthread_t t;
  if (pthread_create(&t, NULL, vfork_server, NULL) != 0) return 1;
  say("ready");
  for (int ms; read(vfork_req[0], &ms, sizeof ms) == sizeof ms;) {
    if (vfork() == 0) {
      // The behaviour under test: the main thread is in vfork meanwhile.
      sleep_us((long)ms * 1000);
      _exit(0);
    }
    say("vfork-done");
  }
  return 0;
}

// attack leaderexit: two worker threads call uname in a loop; the first
// also serves stdin: "exitleader" (the main thread calls pthread_exit;
// prints "exitleader ok"), "report" (prints "R0 R1": the result of a uname
// each worker started after the line was read), "exitall" (both workers
// exit; with the main thread gone the process ends).
static int leader_ctl[2];
static int generation, seen1, last1, quit;

static void* worker1(void* arg) {
  (void)arg;
  while (!__atomic_load_n(&quit, __ATOMIC_ACQUIRE)) {
    const int g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
    const int r = do_uname();
    __atomic_store_n(&last1, r, __ATOMIC_RELEASE);
    __atomic_store_n(&seen1, g, __ATOMIC_RELEASE);
    sleep_us(500);  // pacing: the worker keeps calling, ~2000 times a second
  }
  pthread_exit(NULL);
}

static void* worker0(void* arg) {
  pthread_t* other = arg;
  char line[64];
  while (read_line(STDIN_FILENO, line, sizeof line)) {
    if (!strcmp(line, "exitleader")) {
      (void)!write(leader_ctl[1], "x", 1);
      say("exitleader ok");
    } else if (!strcmp(line, "report")) {
      const int g = __atomic_add_fetch(&generation, 1, __ATOMIC_ACQ_REL);
      const int r0 = do_uname();
      const int64_t end = now_ms() + 5000;
      // A bounded wait for a call worker1 started after the line was read.
      while (__atomic_load_n(&seen1, __ATOMIC_ACQUIRE) < g && now_ms() < end) sleep_us(100);
      const int done = __atomic_load_n(&seen1, __ATOMIC_ACQUIRE) >= g;
      say("%s %s", en(r0), done ? en(__atomic_load_n(&last1, __ATOMIC_ACQUIRE)) : "no-call");
    } else if (!strcmp(line, "exitall")) {
      __atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
      pthread_join(*other, NULL);
      pthread_exit(NULL);
    }
  }
  exit(0);
}

int leaderexit(void) {
  if (pipe(leader_ctl) != 0) return 1;
  static pthread_t t0, t1;
  if (pthread_create(&t1, NULL, worker1, NULL) != 0 || pthread_create(&t0, NULL, worker0, &t1) != 0) return 1;
  say("ready");
  char c;
  if (read(leader_ctl[0], &c, 1) == 1) pthread_exit(NULL);
  return 0;
}
