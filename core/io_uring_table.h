// io_uring against a group's set: which system calls an io_uring ring can
// perform without making them, and the set a group's filter must enforce so
// that a ring cannot bypass it.
//
// Why: an operation submitted through a ring is not a system call. The member
// writes a submission entry (IORING_OP_OPENAT, ...) into memory shared with
// the kernel and the kernel performs it, in io_uring_enter(2) or in a kernel
// worker; seccomp sees io_uring_enter (426) at most, never openat (257). A ring
// set up with IORING_SETUP_SQPOLL needs no system call at all: a kernel thread
// polls the shared queue. So a group that denies anything a ring can do must
// not use io_uring at all: enforced() drops io_uring_setup, io_uring_enter and
// io_uring_register from such a group's set (without io_uring_setup no ring
// exists; the other two cover rings inherited or received as descriptors).
// A group whose denials no ring can perform keeps io_uring as its set says.
// Residual risk: an SQPOLL ring set up before its owner's group denied a
// blocker keeps running operations with no system call for a filter to stop.
//
// Contract:
//  - kIoUringOps is the single source of truth: every IORING_OP_* opcode of
//    Linux up to 6.18 (IORING_OP_NOP = 0 .. IORING_OP_URING_CMD128 = 64, as in
//    include/uapi/linux/io_uring.h), in opcode order, each with the x86_64
//    numbers whose effect it performs; an opcode with no system call
//    counterpart (timeouts, cancellation, ring bookkeeping) performs none.
//  - Opcodes of newer kernels are unknown here. They are reached only through
//    425-427, so keeping this table current is what keeps enforced() sound.
//  - Pure: no system calls, no allocation.
#pragma once

#include "core/syscall_set.h"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace syscg {

// x86_64 numbers of the io_uring system calls.
inline constexpr unsigned kIoUringSetup = 425, kIoUringEnter = 426, kIoUringRegister = 427;

// One io_uring opcode and the system calls whose effect it performs.
struct IoUringOp {
  static constexpr std::size_t kMaxNumbers = 3;

  std::uint8_t opcode;    // the IORING_OP_* value
  std::string_view name;  // without the IORING_OP_ prefix
  std::array<std::uint16_t, kMaxNumbers> slots{};
  std::uint8_t count = 0;

  constexpr IoUringOp(std::uint8_t op, std::string_view n, std::initializer_list<std::uint16_t> nrs)
      : opcode(op), name(n) {
    for (std::uint16_t nr : nrs) slots[count++] = nr;  // more than kMaxNumbers: not a constant expression
  }
  // The x86_64 numbers this opcode performs, ascending as listed.
  constexpr std::span<const std::uint16_t> numbers() const { return {slots.data(), count}; }
};

// The table. Read/write opcodes name every call that reaches the same effect
// (their offset and RWF_* flags make them pread64/preadv2 as well), so a
// group denying any of those loses io_uring.
inline constexpr std::array kIoUringOps{
    IoUringOp{0, "NOP", {}},
    IoUringOp{1, "READV", {19, 295, 327}},      // readv, preadv, preadv2
    IoUringOp{2, "WRITEV", {20, 296, 328}},     // writev, pwritev, pwritev2
    IoUringOp{3, "FSYNC", {74, 75}},            // fsync, fdatasync (IORING_FSYNC_DATASYNC)
    IoUringOp{4, "READ_FIXED", {0, 17, 327}},   // read, pread64, preadv2
    IoUringOp{5, "WRITE_FIXED", {1, 18, 328}},  // write, pwrite64, pwritev2
    IoUringOp{6, "POLL_ADD", {7}},              // poll
    IoUringOp{7, "POLL_REMOVE", {}},
    IoUringOp{8, "SYNC_FILE_RANGE", {277}},
    IoUringOp{9, "SENDMSG", {46}},
    IoUringOp{10, "RECVMSG", {47}},
    IoUringOp{11, "TIMEOUT", {}},
    IoUringOp{12, "TIMEOUT_REMOVE", {}},
    IoUringOp{13, "ACCEPT", {43, 288}},  // accept, accept4
    IoUringOp{14, "ASYNC_CANCEL", {}},
    IoUringOp{15, "LINK_TIMEOUT", {}},
    IoUringOp{16, "CONNECT", {42}},
    IoUringOp{17, "FALLOCATE", {285}},
    IoUringOp{18, "OPENAT", {257}},
    IoUringOp{19, "CLOSE", {3}},
    IoUringOp{20, "FILES_UPDATE", {}},  // the ring's own registered-file table
    IoUringOp{21, "STATX", {332}},
    IoUringOp{22, "READ", {0, 17, 327}},   // read, pread64, preadv2
    IoUringOp{23, "WRITE", {1, 18, 328}},  // write, pwrite64, pwritev2
    IoUringOp{24, "FADVISE", {221}},       // fadvise64
    IoUringOp{25, "MADVISE", {28}},
    IoUringOp{26, "SEND", {44}},  // sendto
    IoUringOp{27, "RECV", {45}},  // recvfrom
    IoUringOp{28, "OPENAT2", {437}},
    IoUringOp{29, "EPOLL_CTL", {233}},
    IoUringOp{30, "SPLICE", {275}},
    IoUringOp{31, "PROVIDE_BUFFERS", {}},
    IoUringOp{32, "REMOVE_BUFFERS", {}},
    IoUringOp{33, "TEE", {276}},
    IoUringOp{34, "SHUTDOWN", {48}},
    IoUringOp{35, "RENAMEAT", {316}},  // renameat2
    IoUringOp{36, "UNLINKAT", {263}},
    IoUringOp{37, "MKDIRAT", {258}},
    IoUringOp{38, "SYMLINKAT", {266}},
    IoUringOp{39, "LINKAT", {265}},
    IoUringOp{40, "MSG_RING", {}},  // ring to ring
    IoUringOp{41, "FSETXATTR", {190}},
    IoUringOp{42, "SETXATTR", {188}},
    IoUringOp{43, "FGETXATTR", {193}},
    IoUringOp{44, "GETXATTR", {191}},
    IoUringOp{45, "SOCKET", {41}},
    IoUringOp{46, "URING_CMD", {16, 54, 55}},  // ioctl-like driver commands, setsockopt, getsockopt
    IoUringOp{47, "SEND_ZC", {44}},            // sendto
    IoUringOp{48, "SENDMSG_ZC", {46}},         // sendmsg
    IoUringOp{49, "READ_MULTISHOT", {0}},      // read
    IoUringOp{50, "WAITID", {247}},
    IoUringOp{51, "FUTEX_WAIT", {202}},       // futex
    IoUringOp{52, "FUTEX_WAKE", {202}},       // futex
    IoUringOp{53, "FUTEX_WAITV", {449}},      // futex_waitv
    IoUringOp{54, "FIXED_FD_INSTALL", {32}},  // a registered file as a new descriptor: dup
    IoUringOp{55, "FTRUNCATE", {77}},
    IoUringOp{56, "BIND", {49}},
    IoUringOp{57, "LISTEN", {50}},
    IoUringOp{58, "RECV_ZC", {45}},  // recvfrom
    IoUringOp{59, "EPOLL_WAIT", {232}},
    IoUringOp{60, "READV_FIXED", {19, 295, 327}},   // readv, preadv, preadv2
    IoUringOp{61, "WRITEV_FIXED", {20, 296, 328}},  // writev, pwritev, pwritev2
    IoUringOp{62, "PIPE", {293}},                   // pipe2
    IoUringOp{63, "NOP128", {}},
    IoUringOp{64, "URING_CMD128", {16, 54, 55}},  // as URING_CMD
};

// Every number some opcode of kIoUringOps performs.
SyscallSet io_uring_performable();

// {kIoUringSetup, kIoUringEnter, kIoUringRegister}.
SyscallSet io_uring_calls();

// The numbers a ring could perform that `allowed` denies: when not empty,
// io_uring would bypass the set. io_uring_performable() minus `allowed`.
SyscallSet io_uring_blockers(const SyscallSet& allowed);

// The set a group's filter enforces for a group allowed `allowed`: `allowed`
// minus io_uring_calls() when io_uring_blockers(allowed) is not empty,
// `allowed` unchanged otherwise. Idempotent, and a subset of `allowed`.
SyscallSet enforced(const SyscallSet& allowed);

}  // namespace syscg
