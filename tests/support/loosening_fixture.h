// The fixtures of live loosening (issue 5 §1–§4): LiveLooseningTest reads a
// group's records; ListenerHandoverTest also counts the listeners a process
// holds.
#pragma once

#include "tests/support/enforcer_fixture.h"

#include <string>
#include <unistd.h>

namespace syscg::test {

// Live loosening (issue 5 §1–§4): a member's first restriction routes its
// denied numbers to the daemon's supervisor, which answers from the group's
// current policy; what cannot be given back is reported.
class LiveLooseningTest : public EnforcerTest {
 protected:
  std::string stricter(const std::string& group) { return read_file(path(group + "/syscalls.stricter")); }
  std::string denied(const std::string& group) { return read_file(path(group + "/syscalls.denied")); }
};

// The listener handed over at a first restriction (found in review of live
// loosening): ways for a member to keep or steal its listener, and records
// that went wrong.
class ListenerHandoverTest : public LiveLooseningTest {
 protected:
  // Listeners (seccomp notify fds) that process `pid` holds.
  static int listeners_held(pid_t pid) {
    int held = 0;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    for (pid_t fd : numeric_entries(dir)) {
      char link[256] = {};
      if (readlink((dir + "/" + std::to_string(fd)).c_str(), link, sizeof link - 1) > 0 &&
          std::string(link).find("seccomp notify") != std::string::npos)
        ++held;
    }
    return held;
  }
};

}  // namespace syscg::test
