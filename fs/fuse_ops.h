// The FUSE low-level operations table of syscgfs. Each callback is thin: it
// calls one Filesystem method and sends exactly one reply; errors become an
// errno through to_errno() (core/error.cc). Exceptions never leave a
// callback: std::bad_alloc is answered ENOMEM, any other EIO. The session's
// userdata is the Filesystem.
#pragma once

#include <fuse_lowlevel.h>

namespace syscg::fs {

const fuse_lowlevel_ops& fuse_operations();

}  // namespace syscg::fs
