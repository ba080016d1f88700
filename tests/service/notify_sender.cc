// A tiny client of the notification protocol, on libsystemd, for testing
// the fake service manager (tests/support/service_manager.h) against the
// real client library:
//   notify_sender send MESSAGE [FILE...]  sends MESSAGE with the FILEs open
//                                         (sd_pid_notify_with_fds); exit 0
//                                         when sent
//   notify_sender listen                  prints what sd_listen_fds_with_names
//                                         finds: "N NAME:TARGET ..." where
//                                         TARGET is the fd's /proc link,
//                                         then "open=3,4,..." (fds >= 3)
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "send" && argc > 2) {
    std::vector<int> fds;
    for (int i = 3; i < argc; ++i) {
      const int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        std::fprintf(stderr, "notify_sender: %s: %s\n", argv[i], std::strerror(errno));
        return 1;
      }
      fds.push_back(fd);
    }
    const int r = sd_pid_notify_with_fds(0, 0, argv[2], fds.data(), static_cast<unsigned>(fds.size()));
    if (r <= 0) {
      std::fprintf(stderr, "notify_sender: sd_pid_notify_with_fds: %s\n", r < 0 ? std::strerror(-r) : "no socket");
      return 1;
    }
    return 0;
  }
  if (mode == "listen") {
    char** names = nullptr;
    const int n = sd_listen_fds_with_names(0, &names);
    if (n < 0) {
      std::fprintf(stderr, "notify_sender: sd_listen_fds_with_names: %s\n", std::strerror(-n));
      return 1;
    }
    std::string out = std::to_string(n);
    for (int i = 0; i < n; ++i) {
      char target[4096] = {};
      const std::string link = "/proc/self/fd/" + std::to_string(SD_LISTEN_FDS_START + i);
      if (readlink(link.c_str(), target, sizeof target - 1) < 0) std::strcpy(target, "?");
      out += std::string(" ") + (names && names[i] ? names[i] : "?") + ":" + target;
      std::free(names ? names[i] : nullptr);
    }
    std::free(names);
    // Every fd from 3 up, to show nothing else was passed.
    std::string open_fds;
    for (int fd = 3; fd < 1024; ++fd)
      if (fcntl(fd, F_GETFD) >= 0) {
        // Appended: GCC 12 at -O3 reports a false -Werror=restrict for "," + std::to_string(fd).
        if (!open_fds.empty()) open_fds += ',';
        open_fds += std::to_string(fd);
      }
    std::printf("%s open=%s\n", out.c_str(), open_fds.c_str());
    return 0;
  }
  std::fprintf(stderr, "usage: notify_sender send MESSAGE [FILE...] | listen\n");
  return 2;
}
