// attack: the members of soundness_test (issue 9). Each mode is one class of
// attack on the enforcer's soundness; raw system calls where glibc has no
// wrapper, io_uring through <linux/io_uring.h> without liburing. Output goes
// to stdout with one write(2) per line (children and threads share it).
//
//   attack asuser ID MODE…   setgroups(0), setresgid/setresuid(ID), then MODE…
//   attack serve             print "ready", then run one command per stdin
//                            line and print "COMMAND RESULT..."
//   attack probe CMD...      run each argument as a command, then exit
//   attack waitsig MODE…     print "ready", wait for SIGUSR1, then run MODE…
//   attack join PROCS MODE…  write its own pid to PROCS (a cgroup.procs), print
//                            "joined ok|ERR", then run MODE…
//   attack chain N SPIN_MS   a fork-and-exit chain (see chain() below)
//   attack forkloop PROCS    fork children while being moved (see forkloop())
//   attack vforkthread       main thread vforks on request while another
//                            thread serves stdin and loops on uname
//   attack leaderexit        two worker threads loop on uname; the main
//                            thread can pthread_exit (see leaderexit())
//
// Commands (results are "ok" or the errno's name, e.g. EPERM):
//   uname | getppid | nnp               the call (nnp: prints the flag)
//   leave PATH                          write "0" to PATH (a cgroup.procs)
//   forkleave PATH N                    N times: fork a child that at once
//                                       writes "0" to PATH (opened before the
//                                       fork) and calls uname; print "child PID
//                                       write=E uname=E"; wait for a stdin line
//                                       "next", then end and reap the child
//   forkprobe N [seq]                   fork N children (all at once, or one
//                                       after another) that call uname first
//                                       thing; "forkprobe ok=A EPERM=B other=C"
//   clone_parent | clone_parent_hi      raw clone(CLONE_PARENT|SIGCHLD) (_hi:
//                                       with bit 32 set too); "ok PID" (the
//                                       child exits at once: the caller's
//                                       parent must reap it) or the errno
//   clone3_null | clone3 | clone3_parent  raw clone3(NULL, 0), clone3 of a
//                                       plain child, and with CLONE_PARENT
//   fork | thread                       glibc fork() / pthread_create()
//   fill                                fill the kernel's per-chain filter
//                                       budget with allow filters: "fill N
//                                       ENOMEM" (N filters installed)
//   groups N                            N supplementary groups: /proc/PID/status
//                                       grows past a page ("groups ok BYTES")
//   blockseccomp                        a filter of its own: seccomp and prctl
//                                       return EACCES
//   seccomp_wide OP FLAGS               raw seccomp(OP, FLAGS, allow-all prog),
//                                       64-bit arguments as given
//   uring_calls                         io_uring_setup/enter/register once each
//   uring_hold                          set up a ring and keep its fd
//   uring_sqpoll_map                    an SQPOLL ring, mapped, its fd closed
//   uring_registered                    a ring kept only in the thread's
//                                       registered-ring table (no fd, no map)
//   fakeuringreg                        a filter of its own: io_uring_register
//                                       -> EINVAL ("never used io_uring")
//   fakeexit                            a filter of its own: exit -> ERRNO(0)
//   uring_nop | uring_read PATH [held]  a ring running NOP / OPENAT + READ
//                                       ("held": through the ring of uring_hold)
//   tidat PID                           create threads until one has thread
//                                       id PID (through ns_last_pid), which
//                                       calls uname: "tidat PID uname=E"
//   wfile PATH TEXT                     one write of TEXT to PATH: "wfile E"
//   mmsteal [dumpable] | steal PID |    thieves of the daemon's listener during a
//   nsmember | thiefstat | dropcaps     first restriction (attack_listener.c)
//
// One executable; each theme in a file of its own (attack_*.c, declared in
// attack.h). This file: the command dispatcher, serve, and the modes.
#include "attack.h"

// ---------------------------------------------------------------- commands

void command(char* line) {
  char* save = NULL;
  const char* cmd = strtok_r(line, " ", &save);
  const char* a1 = strtok_r(NULL, " ", &save);
  const char* a2 = strtok_r(NULL, " ", &save);
  if (!cmd) return;
  if (!strcmp(cmd, "uname")) {
    say("uname %s", en(do_uname()));
  } else if (!strcmp(cmd, "getppid")) {
    say("getppid %s", en(err_of(syscall(SYS_getppid))));
  } else if (!strcmp(cmd, "nnp")) {
    const int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (r < 0)
      say("nnp %s", en(errno));
    else
      say("nnp %d", r);
  } else if (!strcmp(cmd, "leave") && a1) {
    say("leave %s", en(leave(a1)));
  } else if (!strcmp(cmd, "forkleave") && a1 && a2) {
    forkleave(a1, atoi(a2));
  } else if (!strcmp(cmd, "forkprobe") && a1) {
    forkprobe(atoi(a1), a2 && !strcmp(a2, "seq"));
  } else if (!strcmp(cmd, "clone_parent")) {
    clone_parent(cmd, 0);
  } else if (!strcmp(cmd, "clone_parent_hi")) {
    clone_parent(cmd, 1UL << 32);
  } else if (!strcmp(cmd, "clone3_null")) {
    clone3_cmd(cmd, 1, 0);
  } else if (!strcmp(cmd, "clone3")) {
    clone3_cmd(cmd, 0, 0);
  } else if (!strcmp(cmd, "clone3_parent")) {
    clone3_cmd(cmd, 0, CLONE_PARENT);
  } else if (!strcmp(cmd, "fork")) {
    fork_cmd();
  } else if (!strcmp(cmd, "thread")) {
    thread_cmd();
  } else if (!strcmp(cmd, "fill")) {
    fill();
  } else if (!strcmp(cmd, "fakeuringreg")) {
    fakeuringreg();
  } else if (!strcmp(cmd, "fakeexit")) {
    fakeexit();
  } else if (!strcmp(cmd, "groups") && a1) {
    manygroups(atoi(a1));
  } else if (!strcmp(cmd, "blockseccomp")) {
    blockseccomp();
  } else if (!strcmp(cmd, "seccomp_wide") && a1 && a2) {
    seccomp_wide(strtoul(a1, NULL, 0), strtoul(a2, NULL, 0));
  } else if (!strcmp(cmd, "uring_calls")) {
    uring_calls();
  } else if (!strcmp(cmd, "uring_hold") || !strcmp(cmd, "uring_sqpoll_map")) {
    uring_hold(cmd, !strcmp(cmd, "uring_sqpoll_map"));
  } else if (!strcmp(cmd, "uring_registered")) {
    uring_registered(cmd);
  } else if (!strcmp(cmd, "uring_nop")) {
    uring_nop();
  } else if (!strcmp(cmd, "uring_read") && a1) {
    uring_read(a1, a2 && !strcmp(a2, "held"));
  } else if (!strcmp(cmd, "mmsteal")) {
    mmsteal(a1 && !strcmp(a1, "dumpable"));
  } else if (!strcmp(cmd, "thiefstat")) {
    thiefstat();
  } else if (!strcmp(cmd, "steal") && a1) {
    steal(atoi(a1));
  } else if (!strcmp(cmd, "nsmember")) {
    exit(nsmember());
  } else if (!strcmp(cmd, "dropcaps")) {
    dropcaps();
  } else if (!strcmp(cmd, "wfile") && a1 && a2) {
    wfile(a1, a2);
  } else if (!strcmp(cmd, "tidat") && a1) {
    tidat(atoi(a1));
  } else {
    say("%s unknown", cmd);
  }
}

int serve(void) {
  say("ready");
  char line[512];
  while (read_line(STDIN_FILENO, line, sizeof line)) command(line);
  return 0;
}

// ---------------------------------------------------------------- main

int main(int argc, char** argv) {
  // Our own process group: the test kills it whole, orphans included (a
  // member exec'd by one of our own commands stays in it).
  if (!getenv("ATTACK_KEEP_PGRP")) (void)setpgid(0, 0);
  int i = 1;
  if (argc > 3 && !strcmp(argv[1], "asuser")) {
    // An unprivileged identity (the tests run as root).
    const unsigned id = (unsigned)atoi(argv[2]);
    if (syscall(SYS_setgroups, 0, NULL) != 0 || setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) {
      say("asuser %s", en(errno));
      return 1;
    }
    // Dumpable, as a program the user started would be (the change of
    // identity made it non-dumpable).
    (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    i = 3;
  }
  if (argc > i + 2 && !strcmp(argv[i], "join")) {
    char num[16];
    const int len = snprintf(num, sizeof num, "%d\n", getpid());
    const int fd = open(argv[i + 1], O_WRONLY | O_CLOEXEC);
    const ssize_t w = fd < 0 ? -1 : write(fd, num, (size_t)len);
    say("joined %s", en(w == len ? 0 : errno));
    if (fd >= 0) close(fd);
    i += 2;
  }
  if (argc > i && !strcmp(argv[i], "waitsig")) {
    // For groups that deny read(2): no stdin commands, a signal to start.
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    say("ready");
    while (!usr1) sigsuspend(&wait_mask);
    ++i;
  }
  const char* mode = argc > i ? argv[i] : "";
  if (!strcmp(mode, "serve")) return serve();
  if (!strcmp(mode, "probe")) {
    for (int k = i + 1; k < argc; ++k) {
      char line[512];
      snprintf(line, sizeof line, "%s", argv[k]);
      command(line);
    }
    return 0;
  }
  if (!strcmp(mode, "chain") && argc > i + 2) return chain(atoi(argv[i + 1]), atoi(argv[i + 2]));
  if (!strcmp(mode, "forkloop") && argc > i + 1) return forkloop(argv[i + 1]);
  if (!strcmp(mode, "vforkthread")) return vforkthread();
  if (!strcmp(mode, "leaderexit")) return leaderexit();
  fprintf(stderr,
          "usage: attack [join PROCS] serve|probe CMD...|chain N SPIN_MS|forkloop PROCS|vforkthread|leaderexit\n");
  return 2;
}
