// attack: the declarations its themes share (see attack.c for the modes and
// commands). Each attack_*.c holds one theme.
#ifndef SYSCG_TESTS_VICTIMS_ATTACK_H
#define SYSCG_TESTS_VICTIMS_ATTACK_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLONE_PARENT
#define CLONE_PARENT 0x00008000
#endif

// ---------------------------------------------------------------- attack_util.c

// One line to stdout, one write(2) (children and threads share it).
void say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// "ok" for 0, else the errno's name.
const char* en(int e);
// The errno of a raw call's result (0 when it succeeded).
int err_of(long r);
int64_t now_ms(void);
void sleep_us(long us);
// One line from fd (without the newline) into buf; 0 at EOF.
int read_line(int fd, char* buf, size_t size);
// True when the read end `fd` of a pipe nobody writes to reached EOF.
int at_eof(int fd, int timeout_ms);
int do_uname(void);
// One write(2) of "0\n" to an open cgroup.procs: 0 or the errno.
int write_zero(int fd);
// Writes "0" to PATH (a cgroup.procs): 0 or the errno.
int leave(const char* path);
// Set by SIGUSR1 (on_usr1): waitsig and forkloop.
extern volatile sig_atomic_t usr1;
void on_usr1(int sig);

// ---------------------------------------------------------------- attack_process.c

void clone3_cmd(const char* name, int null_args, uint64_t flags);
void clone_parent(const char* name, unsigned long extra);
void forkleave(const char* path, int n);
void forkprobe(int n, int seq);
void fork_cmd(void);
void thread_cmd(void);

// ---------------------------------------------------------------- attack_errno.c

// One write of "TEXT\n" to PATH.
void wfile(const char* path, const char* text);

// ---------------------------------------------------------------- attack_seccomp.c

void fill(void);
void fakeexit(void);
void fakeuringreg(void);
void blockseccomp(void);
// setgroups(n groups): the member's /proc/PID/status outgrows a page (the
// fields syscg reads come after the Groups line). Says its size in bytes.
void manygroups(int n);
void seccomp_wide(unsigned long op, unsigned long flags);

// ---------------------------------------------------------------- attack_uring.c

void uring_calls(void);
void uring_nop(void);
void uring_read(const char* path, int use_held);
void uring_hold(const char* cmd, int sqpoll);
void uring_registered(const char* cmd);

// ---------------------------------------------------------------- attack_threads.c

void tidat(int pid);
int vforkthread(void);
int leaderexit(void);

// ---------------------------------------------------------------- attack_races.c

int chain(int n, int spin_ms);
int forkloop(const char* procs);

// ---------------------------------------------------------------- attack_listener.c

void mmsteal(int dumpable);
void thiefstat(void);
void steal(int pid);
int nsmember(void);
void dropcaps(void);

// ---------------------------------------------------------------- attack.c

void command(char* line);
int serve(void);

#endif
