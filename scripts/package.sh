#!/usr/bin/env bash
# Builds the Debian package: installs what is needed, builds a Release tree
# in build-package (prefix /usr, as installed) and runs cpack -G DEB there.
# Prints the .deb's path. Run as root. README "Installing as a Debian package".
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"
# Only what the package holds is built (no tests, no benchmarks), and cpack
# installs without building everything first.
cmake -S . -B build-package -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DSYSCG_BENCH=OFF \
  -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build build-package -j"$(nproc)" --target syscgfs syscg syscg_man
# cpack says "CPack: - package: PATH generated."
deb=$(cd build-package && cpack -G DEB | sed -n 's/^CPack: - package: \(.*\) generated\.$/\1/p')
[ -f "$deb" ] || {
  echo "package.sh: cpack made no package" >&2
  exit 1
}
echo "==> $deb"
