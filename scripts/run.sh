#!/usr/bin/env bash
# Installs what syscg needs, builds it, installs `syscgfs` and `syscg` into
# /usr/local/bin (cmake --install) and runs the main job: syscgfs mounted at
# /run/syscg (a mount left by an earlier run is replaced). Run as root.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_BENCH=OFF
# Earlier versions linked into the build tree: never install through a link.
for f in syscgfs syscg; do [ -L "/usr/local/bin/$f" ] && rm "/usr/local/bin/$f"; done
cmake --install build --prefix /usr/local >/dev/null

MOUNT=${SYSCG_MOUNT:-/run/syscg}
if grep -qs " $MOUNT fuse.syscg " /proc/mounts; then
  echo "==> replacing the syscgfs mounted at $MOUNT"
  fusermount3 -u "$MOUNT" || umount -l "$MOUNT"
fi
mkdir -p "$MOUNT"
/usr/local/bin/syscgfs "$MOUNT" "$@"
echo "==> syscgfs mounted at $MOUNT"
echo "    mkdir $MOUNT/web; echo execve > $MOUNT/web/syscalls.deny; syscg exec web -- CMD"
echo "    unmount: fusermount3 -u $MOUNT"
