// Test support: a real syscgfs mount on a fresh temporary directory.
//
// The constructor starts `syscgfs -f DIR` (its output to DIR.log), waits for
// the mount with a deadline and throws if the daemon exits first. The
// destructor always detaches the mount (fusermount3 -u -z), ends and reaps
// the daemon and removes the directory. log_errors() returns the daemon's
// "error" lines, which a test fixture treats as a failure.
#pragma once

#include "tests/support/process.h"

#include <optional>
#include <string>

namespace syscg::test {

class Mount {
 public:
  // extra_args are passed to syscgfs after the mountpoint; `wrapper`, when
  // given, runs first and must exec the rest (e.g. setpriv ... --).
  explicit Mount(std::vector<std::string> extra_args = {}, std::vector<std::string> wrapper = {});
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount();

  const std::string& dir() const { return dir_; }
  // The daemon's state database (-o state=...), beside the mountpoint.
  std::string state_path() const { return dir_ + ".state"; }
  std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
  pid_t daemon_pid() const { return daemon_->pid(); }
  Child& daemon() { return *daemon_; }
  std::string log() const;
  std::string log_errors() const;
  // Runs a shell script with the mount as its working directory.
  RunResult sh(const std::string& script) const { return test::sh(script, dir_); }

 private:
  std::string dir_;
  std::string log_path_;
  std::optional<Child> daemon_;
};

// Removes a state database and every file beside it (its WAL, its lock, a
// version-1 file kept as .v1, what was set aside as .corrupt).
void remove_state_files(const std::string& db);
// True when `dir` is a mount point (its device differs from its parent's).
bool is_mount_point(const std::string& dir);
// The paths of the binaries under test.
std::string syscgfs_binary();
std::string syscg_binary();   // the syscg CLI (syscg exec)
std::string victim_binary();  // tests/victims/victim

}  // namespace syscg::test
