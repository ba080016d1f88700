// The restart control socket's protocol, shared by syscgfs (the server) and
// `syscg restart` (the client). Pure.
//
// A daemon serving MOUNT listens on an abstract Unix socket (SOCK_SEQPACKET)
// named restart_socket_name(MOUNT's real path): no file to leave behind or to
// race for. The client sends kRestartRequest; the daemon answers one message,
// "ok PID" (the successor serving the mount now) or "error MESSAGE".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace syscg {

inline constexpr std::string_view kRestartRequest = "restart";

// "\0syscgfs-restart:PATH", or the path's 64-bit FNV-1a hash (hex) in its
// place when the name would not fit in sockaddr_un (107 bytes).
inline std::string restart_socket_name(std::string_view real_mountpoint) {
  std::string name("\0syscgfs-restart:", 17);
  if (name.size() + real_mountpoint.size() <= 107) return name.append(real_mountpoint);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : real_mountpoint) h = (h ^ c) * 0x100000001b3ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) name.push_back(kHex[(h >> shift) & 0xf]);
  return name;
}

}  // namespace syscg
