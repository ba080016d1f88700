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
class ListenerHandoverTest : public LiveLooseningTest {};

}  // namespace syscg::test
