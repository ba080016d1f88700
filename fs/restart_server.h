// The restart control socket (core/restart_protocol.h): one thread accepts
// `syscg restart` clients, one at a time, and runs `restart` for each that
// `trusted` lets in.
//
// Contract:
//  - Only root may ask (SO_PEERCRED uid 0), and only a process `trusted`
//    accepts (the composition root: not a member of any group, holding
//    CAP_SYS_PTRACE: a member that could connect would otherwise be handed
//    every listener, its own included). Refused: "error ..." and nothing
//    happens.
//  - After a successful restart the thread accepts no more (the successor
//    serves the same listening socket) and runs `done`.
//  - The thread blocks SIGINT, SIGTERM and SIGHUP (they end the FUSE loop on
//    the main thread). The destructor stops it.
//  - start() errors (io, with errno): socket, bind (EADDRINUSE: another
//    daemon serves this mount point), listen, eventfd.
#pragma once

#include "core/error.h"
#include "core/ids.h"
#include "enforcer/sys/log.h"
#include "enforcer/sys/unique_fd.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace syscg::fs {

class RestartServer {
 public:
  // nullopt: the peer may restart the daemon; else why not.
  using Trusted = std::function<std::optional<std::string>(Pid peer)>;
  // Hands the daemon over (passing on `listening`, this socket); the
  // successor's pid. On error nothing changed.
  using Restart = std::function<Result<Pid>(int listening)>;

  // Called once the client has its "ok": the caller ends the daemon.
  using Done = std::function<void()>;

  // Binds `socket_name`, or serves `inherited` (a listening socket handed
  // over by the previous daemon) when it is valid.
  static Result<std::unique_ptr<RestartServer>> start(const std::string& socket_name, sys::UniqueFd inherited,
                                                      Trusted trusted, Restart restart, Done done, sys::Log& log);
  ~RestartServer();
  RestartServer(const RestartServer&) = delete;
  RestartServer& operator=(const RestartServer&) = delete;

 private:
  RestartServer(sys::UniqueFd listen, sys::UniqueFd wake, Trusted trusted, Restart restart, Done done, sys::Log& log);
  void run();
  // True once the daemon was handed over: the thread accepts no more.
  bool serve(int client);

  sys::UniqueFd listen_;
  sys::UniqueFd wake_;  // eventfd: ends the thread
  Trusted trusted_;
  Restart restart_;
  Done done_;
  sys::Log& log_;
  std::thread thread_;
};

}  // namespace syscg::fs
