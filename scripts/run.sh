#!/usr/bin/env bash
# Installs what syscg needs, builds it and runs the main job: syscgfs mounted
# at /run/syscg (a mount left by an earlier run is replaced). Run as root.
# `syscg` and `syscgfs` are linked into /usr/local/bin.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_BENCH=OFF

MOUNT=${SYSCG_MOUNT:-/run/syscg}
ln -sf "$SYSCG_ROOT/build/fs/syscgfs" /usr/local/bin/syscgfs
ln -sf "$SYSCG_ROOT/build/enforcer/syscg" /usr/local/bin/syscg
if grep -qs " $MOUNT fuse.syscg " /proc/mounts; then
  echo "==> replacing the syscgfs mounted at $MOUNT"
  fusermount3 -u "$MOUNT" || umount -l "$MOUNT"
fi
mkdir -p "$MOUNT"
syscgfs "$MOUNT" "$@"
echo "==> syscgfs mounted at $MOUNT"
echo "    mkdir $MOUNT/web; echo execve > $MOUNT/web/syscalls.deny; syscg exec web -- CMD"
echo "    unmount: fusermount3 -u $MOUNT"
