// A poller waiting on an open control file (poll(2), select, epoll): the
// filesystem keeps at most one per open cgroup.events handle and notifies
// it once that file's contents change. The FUSE adapter implements it over
// fuse_pollhandle (fuse_ops.cc); tests record notifications.
#pragma once

namespace syscg::fs {

class PollWaiter {
 public:
  // Releases the transport's handle, whether or not notify() was called.
  virtual ~PollWaiter() = default;
  // Wakes the poller; called at most once, with no lock of the filesystem
  // held, from any thread.
  virtual void notify() = 0;
};

}  // namespace syscg::fs
