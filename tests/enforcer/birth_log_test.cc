// The birth log's bound on who may share a process's memory
// (enforcer/birth_log.h): pure, from scripted events.
#include "enforcer/birth_log.h"

#include <gtest/gtest.h>

namespace syscg::enforcer {
namespace {

using Pids = std::vector<Pid>;

TEST(BirthLogTest, OnlyProcessesBornAfterTheExecMayShareItsMemory) {
  BirthLog log;
  log.forked(10);  // before 20's exec: cannot hold the memory it makes
  log.forked(20);
  log.execed(20);
  log.forked(30);
  log.forked(40);
  EXPECT_EQ(log.bound(20), (Pids{30, 40}));
}

TEST(BirthLogTest, WithoutAnExecSeenTheLogCannotSay) {
  BirthLog log;
  log.forked(20);  // forked, never exec'd: its memory may be its parent's
  log.forked(30);
  EXPECT_EQ(log.bound(20), std::nullopt);
  EXPECT_EQ(log.bound(99), std::nullopt);  // never seen: older than the log
}

TEST(BirthLogTest, AProcessOlderThanTheLogIsBoundedByItsExec) {
  BirthLog log;
  log.execed(5);
  log.forked(6);
  EXPECT_EQ(log.bound(5), (Pids{6}));
}

TEST(BirthLogTest, AProcessStaysListedWhileAnyOfItsThreadsLives) {
  BirthLog log;
  log.forked(20);
  log.execed(20);
  log.forked(30);
  log.thread_forked(30);
  log.exited(30, 30);  // its leader exited; a thread still holds the memory
  EXPECT_EQ(log.bound(20), (Pids{30}));
  log.exited(31, 30);
  EXPECT_EQ(log.bound(20), (Pids{}));
}

TEST(BirthLogTest, AnExecLaterMovesTheBound) {
  BirthLog log;
  log.forked(20);
  log.execed(20);
  log.forked(30);
  log.execed(20);  // a new memory: 30 was born before it
  log.forked(40);
  EXPECT_EQ(log.bound(20), (Pids{40}));
}

TEST(BirthLogTest, ANumberUsedAgainIsANewBirth) {
  BirthLog log;
  log.forked(30);
  log.forked(20);
  log.execed(20);
  log.exited(30, 30);
  log.forked(30);  // the number again, after 20's exec
  EXPECT_EQ(log.bound(20), (Pids{30}));
}

TEST(BirthLogTest, LostEventsForgetEverything) {
  BirthLog log;
  log.forked(20);
  log.execed(20);
  log.forked(30);
  log.lost();
  EXPECT_EQ(log.bound(20), std::nullopt);
  EXPECT_EQ(log.size(), 0u);
  log.execed(20);  // an exec after the loss bounds again
  log.forked(40);
  EXPECT_EQ(log.bound(20), (Pids{40}));
}

}  // namespace
}  // namespace syscg::enforcer
