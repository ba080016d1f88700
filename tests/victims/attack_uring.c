// attack: io_uring through <linux/io_uring.h> without liburing — rings run
// operations in the kernel without a system call of their own.
#include "attack.h"

// ---------------------------------------------------------------- io_uring

struct ring {
  int fd;
  struct io_uring_params p;
  void *sq_ptr, *cq_ptr;
  size_t sq_len, cq_len, sqes_len;
  struct io_uring_sqe* sqes;
  unsigned *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe* cqes;
};

// 0 or the errno (of io_uring_setup, or of mmap).
static int ring_init(struct ring* r, unsigned entries, unsigned flags) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->p.flags = flags;
  if (flags & IORING_SETUP_SQPOLL) r->p.sq_thread_idle = 1000;
  const long fd = syscall(SYS_io_uring_setup, entries, &r->p);
  if (fd < 0) return errno;
  r->fd = (int)fd;
  r->sq_len = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
  r->cq_len = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
  const int single = (r->p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single) r->sq_len = r->cq_len = r->sq_len > r->cq_len ? r->sq_len : r->cq_len;
  r->sq_ptr = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (r->sq_ptr == MAP_FAILED) return errno;
  r->cq_ptr = single
                  ? r->sq_ptr
                  : mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
  if (r->cq_ptr == MAP_FAILED) return errno;
  r->sqes_len = r->p.sq_entries * sizeof(struct io_uring_sqe);
  r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  if (r->sqes == MAP_FAILED) return errno;
  char* sq = r->sq_ptr;
  char* cq = r->cq_ptr;
  r->sq_tail = (unsigned*)(sq + r->p.sq_off.tail);
  r->sq_mask = (unsigned*)(sq + r->p.sq_off.ring_mask);
  r->sq_array = (unsigned*)(sq + r->p.sq_off.array);
  r->cq_head = (unsigned*)(cq + r->p.cq_off.head);
  r->cq_tail = (unsigned*)(cq + r->p.cq_off.tail);
  r->cq_mask = (unsigned*)(cq + r->p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe*)(cq + r->p.cq_off.cqes);
  return 0;
}

static void ring_free(struct ring* r) {
  if (r->sqes && r->sqes != MAP_FAILED) munmap(r->sqes, r->sqes_len);
  if (r->cq_ptr && r->cq_ptr != MAP_FAILED && r->cq_ptr != r->sq_ptr) munmap(r->cq_ptr, r->cq_len);
  if (r->sq_ptr && r->sq_ptr != MAP_FAILED) munmap(r->sq_ptr, r->sq_len);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
}

// Submits one SQE and waits for its completion: 0 (and *res) or the errno
// of io_uring_enter.
static int ring_run(struct ring* r, const struct io_uring_sqe* sqe, int* res) {
  const unsigned tail = *r->sq_tail;
  const unsigned idx = tail & *r->sq_mask;
  r->sqes[idx] = *sqe;
  r->sq_array[idx] = idx;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(SYS_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return errno;
  const unsigned head = *r->cq_head;
  if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return EAGAIN;
  *res = r->cqes[head & *r->cq_mask].res;
  __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
  return 0;
}

void uring_calls(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  const long fd = syscall(SYS_io_uring_setup, 4, &p);
  const int setup = err_of(fd);
  if (fd >= 0) close((int)fd);
  const int enter = err_of(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
  const int reg = err_of(syscall(SYS_io_uring_register, -1, 0, NULL, 0));
  say("uring_calls setup=%s enter=%s register=%s", en(setup), en(enter), en(reg));
}

void uring_nop(void) {
  struct ring r;
  int e = ring_init(&r, 4, 0), res = -1;
  if (e == 0) {
    struct io_uring_sqe sqe;
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = IORING_OP_NOP;
    e = ring_run(&r, &sqe, &res);
  }
  ring_free(&r);
  if (e != 0)
    say("uring_nop %s", en(e));
  else
    say("uring_nop %s", res == 0 ? "ok" : en(-res));
}

static struct ring held;  // uring_hold / uring_sqpoll_map keep theirs

void uring_read(const char* path, int use_held) {
  struct ring own;
  struct ring* rp = use_held ? &held : &own;
  int e = use_held ? (held.fd >= 0 && held.sqes ? 0 : EBADF) : ring_init(&own, 4, 0), fd = -1, n = -1;
  if (e != 0) {
    if (!use_held) ring_free(&own);
    say("uring_read setup=%s", en(e));
    return;
  }
  struct ring r = *rp;
  struct io_uring_sqe sqe;
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_OPENAT;
  sqe.fd = AT_FDCWD;
  sqe.addr = (uint64_t)(uintptr_t)path;
  sqe.open_flags = O_RDONLY | O_CLOEXEC;
  e = ring_run(&r, &sqe, &fd);
  if (e != 0 || fd < 0) {
    if (!use_held) ring_free(&r);
    say("uring_read openat=%s", en(e != 0 ? e : -fd));
    return;
  }
  char buf[256] = {0};
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_READ;
  sqe.fd = fd;
  sqe.addr = (uint64_t)(uintptr_t)buf;
  sqe.len = sizeof buf - 1;
  e = ring_run(&r, &sqe, &n);
  close(fd);
  if (!use_held) ring_free(&r);
  if (e != 0 || n < 0) {
    say("uring_read read=%s", en(e != 0 ? e : -n));
    return;
  }
  buf[n] = 0;
  buf[strcspn(buf, "\n")] = 0;
  say("uring_read ok %s", buf);
}

// uring_hold / uring_sqpoll_map: a ring kept in `held` (SQPOLL: its fd
// closed, only the mapping keeps it).
void uring_hold(const char* cmd, int sqpoll) {
  const int e = ring_init(&held, 4, sqpoll ? IORING_SETUP_SQPOLL : 0);
  if (e == 0 && sqpoll) {
    close(held.fd);  // only the mapping keeps the ring
    held.fd = -1;
  }
  say("%s %s", cmd, en(e));
}

// uring_registered: a ring kept only in the thread's registered-ring table.
void uring_registered(const char* cmd) {
  struct ring r;
  int e = ring_init(&r, 4, 0);
  if (e == 0) {
    struct io_uring_rsrc_update up;
    memset(&up, 0, sizeof up);
    up.offset = (uint32_t)-1;  // any free slot
    up.data = (uint64_t)r.fd;
    if (syscall(SYS_io_uring_register, r.fd, IORING_REGISTER_RING_FDS, &up, 1) != 1) e = errno;
  }
  ring_free(&r);  // unmapped and closed: only the registered-ring table keeps it
  say("%s %s", cmd, en(e));
}
