# Shared by the scripts in this folder: the Debian packages syscg needs and
# the build steps. Sourced, not run.
set -euo pipefail

SYSCG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Build and test dependencies (Debian 12). See README "Dependencies".
SYSCG_PACKAGES=(
  build-essential cmake pkg-config git python3
  libfuse3-dev fuse3 libsystemd-dev
  libsqlite3-dev sqlite3
  libboost-dev libfmt-dev libseccomp-dev
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  bubblewrap crun busybox-static systemd
  gnuplot-nox
  clang clang-format
  dpkg-dev groff-base
)

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): run as root (it installs Debian packages and mounts FUSE filesystems)" >&2
    exit 1
  fi
}

install_packages() {
  local missing=()
  for p in "${SYSCG_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# build DIR [cmake args...]
build() {
  local dir=$1
  shift
  cmake -S "$SYSCG_ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

# The C and C++ sources clang-format keeps in shape (.clang-format).
format_sources() {
  git -C "$SYSCG_ROOT" ls-files -- '*.cc' '*.h' '*.c'
}
