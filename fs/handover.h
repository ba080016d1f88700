// A controlled restart's bundle: what a running daemon hands its successor
// besides the state database (which both open) and the listeners (passed
// as file descriptors, in `listeners` order).
//
// Contract:
//  - encode_bundle() and decode_bundle() are pure and inverse.
//  - decode_bundle() refuses (invalid, with what was wrong) anything but a bundle
//    of this version: a successor never guesses at a layout it does not know.
//  - members: every member at the hand-over, children that joined by forking
//    included (the database has only those moved by a write), each named by
//    pid and start time (a recycled pid is never taken for it) and its
//    group's path ("/" or "/a/b").
//  - routed: per process, the numbers its listener answered (readback.h).
//  - listeners: the process each listener was made by, one entry per fd.
//  - argv: the giver's command line, for the successor it starts.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "core/syscall_set.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace syscg::fs {

inline constexpr int kHandoverVersion = 1;

struct HandedMember {
  Pid pid = 0;
  std::uint64_t start_time = 0;
  std::string group;  // its path
  bool operator==(const HandedMember&) const = default;
};

struct Bundle {
  std::vector<HandedMember> members;
  std::map<Pid, SyscallSet> routed;
  std::vector<Pid> listeners;
  std::vector<std::string> argv;
  bool operator==(const Bundle&) const = default;
};

std::string encode_bundle(const Bundle& bundle);
Result<Bundle> decode_bundle(std::string_view text);

}  // namespace syscg::fs
