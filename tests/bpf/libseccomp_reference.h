// The reference filter for cross-checks: libseccomp's allow-list filter for
// a set, exported as BPF (never loaded). Shared by bpf_test and bpf_bench.
#pragma once

#include "core/error.h"
#include "core/syscall_set.h"
#include "core/syscall_table.h"
#include "enforcer/bpf/program.h"

#include <fmt/format.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace syscg::bpf::testing {

// default ERRNO(EPERM), bad arch ERRNO(EPERM), ALLOW for every named member
// of `allowed` (libseccomp has no use for gaps in its table). `tree` selects
// SCMP_FLTATR_CTL_OPTIMIZE = 2 (binary tree) over the default (priority list).
inline Result<Program> libseccomp_filter(const SyscallSet& allowed, bool tree) {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)), &seccomp_release);
  if (!ctx) return make_error(Errc::invalid, "seccomp_init failed");
  const auto check = [](int rc, const char* what) -> Status {
    if (rc < 0) return make_error(Errc::invalid, fmt::format("{}: error {}", what, rc));
    return outcome::success();
  };
  BOOST_OUTCOME_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM)), "badarch"));
  if (tree) {
    BOOST_OUTCOME_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
  }
  for (unsigned nr : allowed) {
    if (!syscall_table::name(nr)) continue;
    BOOST_OUTCOME_TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, static_cast<int>(nr), 0),
                            fmt::format("rule for {}", nr).c_str()));
  }

  const int fd = memfd_create("libseccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) return make_error(Errc::invalid, "memfd_create failed");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  BOOST_OUTCOME_TRY(check(seccomp_export_bpf(ctx.get(), fd), "seccomp_export_bpf"));
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return make_error(Errc::invalid, "exported BPF has an odd size");
  Program p(static_cast<std::size_t>(st.st_size) / sizeof(sock_filter));
  if (pread(fd, p.data(), static_cast<std::size_t>(st.st_size), 0) != st.st_size)
    return make_error(Errc::invalid, "short read of the exported BPF");
  return p;
}

}  // namespace syscg::bpf::testing
