#include "tests/support/mount.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace syscg::test {

std::string syscgfs_binary() { return SYSCGFS_BINARY; }
std::string syscg_binary() { return SYSCG_BINARY; }
std::string victim_binary() { return VICTIM_BINARY; }

bool is_mount_point(const std::string& dir) {
  struct stat self {
  }, parent{};
  if (stat(dir.c_str(), &self) != 0 || stat((dir + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

Mount::Mount(std::vector<std::string> extra_args, std::vector<std::string> wrapper) {
  std::string templ = "/tmp/syscgfs-test-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  chmod(dir_.c_str(), 0755);  // other users must reach the mount (delegation tests)
  log_path_ = dir_ + ".log";
  // Each mount keeps its state beside it, never in the machine's default.
  std::vector<std::string> argv = std::move(wrapper);
  for (std::string a : {syscgfs_binary(), dir_, std::string("-f"), std::string("-o"), "state=" + state_path()})
    argv.push_back(std::move(a));
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  daemon_.emplace(argv, log_path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!is_mount_point(dir_)) {
    if (daemon_->poll() >= 0) {
      const auto l = log();
      daemon_.reset();
      rmdir(dir_.c_str());
      throw std::runtime_error("syscgfs exited before mounting: " + l);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      daemon_.reset();
      rmdir(dir_.c_str());
      throw std::runtime_error("syscgfs did not mount within 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Mount::~Mount() {
  // Lazy unmount first: it works even when the daemon is dead or hung.
  test::sh("fusermount3 -u -z '" + dir_ + "' >/dev/null 2>&1 || umount -l '" + dir_ + "' >/dev/null 2>&1; true");
  daemon_->kill(SIGTERM);
  if (daemon_->wait_for(std::chrono::seconds(5)) < 0) daemon_->kill(SIGKILL);
  daemon_.reset();  // reaps
  rmdir(dir_.c_str());
  // SYSCG_TEST_KEEP_LOGS=1 keeps the daemon's log for debugging.
  if (!std::getenv("SYSCG_TEST_KEEP_LOGS")) unlink(log_path_.c_str());
  remove_state_files(state_path());
}

void remove_state_files(const std::string& db) {
  for (const auto* suffix : {"", "-wal", "-shm", "-journal", ".lock", ".tmp", ".tmp-journal", ".conv", ".conv.tmp",
                             ".v1", ".corrupt", ".corrupt-wal"})
    unlink((db + suffix).c_str());
}

std::string Mount::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Mount::log_errors() const {
  std::istringstream in(log());
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.find("error") != std::string::npos) out += line + "\n";
  return out;
}

}  // namespace syscg::test
