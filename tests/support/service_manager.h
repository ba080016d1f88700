// Test support: a fake service manager, systemd's side of sd_notify(3) and
// sd_listen_fds(3), to run a daemon as systemd would where systemd is not
// PID 1 (or not there at all).
//
//  - The notification socket: a datagram Unix socket at socket_path(), in a
//    fresh temporary directory, receiving the senders' credentials.
//  - start(): runs one command at a time with NOTIFY_SOCKET set to it (the
//    runner's NOTIFY_SOCKET and LISTEN_* are not passed on), stdin
//    /dev/null, only fds 0-2 open (plus the store's, see below).
//  - Every datagram is recorded (messages()) with its sender and its fds:
//      FDSTORE=1 [FDNAME=name]    the fds join the store under that name
//                                 ("stored" when none is given), up to
//                                 store_max in all (the rest are closed, as
//                                 systemd does past FileDescriptorStoreMax=);
//      FDSTOREREMOVE=1 FDNAME=x   every entry named x is removed and closed;
//    fds sent with any other message are closed.
//  - StartOptions::pass_store hands the store to the next command the
//    systemd way: its fds at 3, 4, ... in store order, LISTEN_FDS=n,
//    LISTEN_FDNAMES=a:b:..., LISTEN_PID=the command's pid. An empty store
//    sets none of them.
//  - stop(): SIGTERM, a bounded wait, then SIGKILL; the messages sent until
//    the exit are kept.
//  - The destructor kills (SIGKILL) and reaps the command if it still runs,
//    closes the socket and the store's fds and removes the directory.
// Not thread-safe: one test thread drives it. Throws std::runtime_error when
// a system call it needs fails.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace syscg::test {

// One datagram received on the notification socket.
struct NotifyMessage {
  pid_t sender = 0;                                              // the sending process (SCM_CREDENTIALS)
  std::string text;                                              // the datagram as sent
  std::vector<std::pair<std::string, std::string>> assignments;  // its KEY=VALUE lines, in order
  std::size_t fds = 0;                                           // descriptors that came with it
  bool truncated = false;                                        // longer than 4096 bytes, or fds cut off

  // The value of the last assignment of `key`, if any.
  std::optional<std::string> get(std::string_view key) const;
  // True when it assigns `value` to `key` ("READY", "1").
  bool has(std::string_view key, std::string_view value) const;
};

// One descriptor in the store; the fd belongs to the ServiceManager.
struct StoredFd {
  std::string name;
  int fd;
};

class ServiceManager {
 public:
  struct StartOptions {
    bool pass_store = false;       // pass the store's fds (LISTEN_FDS...)
    std::string log_path;          // stdout and stderr go to this file (truncated); else inherited
    std::vector<std::string> env;  // extra NAME=VALUE entries (they replace those of the same name)
  };

  // `store_max`: FileDescriptorStoreMax=.
  explicit ServiceManager(std::size_t store_max = 4096);
  ServiceManager(const ServiceManager&) = delete;
  ServiceManager& operator=(const ServiceManager&) = delete;
  ~ServiceManager();

  const std::string& socket_path() const { return socket_path_; }

  // Starts `argv` (argv[0] a path; no PATH search); returns its pid. Throws
  // when a command started earlier still runs.
  pid_t start(const std::vector<std::string>& argv, const StartOptions& options);
  pid_t start(const std::vector<std::string>& argv);  // default StartOptions
  // The running command's pid, or -1.
  pid_t pid() const { return pid_; }
  // Its exit status (128 + signal when killed) once it ended (reaped here),
  // or -1 while it runs (or when nothing was started).
  int poll_exit();
  // Waits up to `timeout` for the command to end; its status, or -1.
  int wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, waits up to `timeout`, then SIGKILL; the exit status.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Reads every datagram queued, waiting up to `timeout` for the first.
  void receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Receives until a message satisfies `pred` (checked on messages not seen
  // by an earlier wait) and returns it; nullopt after `timeout`, or once the
  // command has ended and every message it sent was checked.
  std::optional<NotifyMessage> wait_for(const std::function<bool(const NotifyMessage&)>& pred,
                                        std::chrono::milliseconds timeout);
  // wait_for a message with READY=1.
  std::optional<NotifyMessage> wait_ready(std::chrono::milliseconds timeout);

  // Every message so far (receives what is queued first).
  const std::vector<NotifyMessage>& messages();
  // The store, in order; and its names alone.
  const std::vector<StoredFd>& store() const { return store_; }
  std::vector<std::string> store_names() const;

 private:
  void handle(NotifyMessage message, std::vector<int> fds);

  std::size_t store_max_;
  std::string dir_;
  std::string socket_path_;
  int socket_ = -1;
  pid_t pid_ = -1;
  int status_ = -1;
  std::vector<NotifyMessage> messages_;
  std::size_t checked_ = 0;  // messages wait_for has looked at
  std::vector<StoredFd> store_;
};

}  // namespace syscg::test
