#!/usr/bin/env bash
# Installs what syscg needs, builds it twice (plain, and with AddressSanitizer
# + UndefinedBehaviorSanitizer) and runs every test: all tests in the plain
# build, the unit tests in the sanitized build. Run as root.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"

echo "==> plain build"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_WERROR=ON
echo "==> all tests"
ctest --test-dir build --output-on-failure -j"$(nproc)"

echo "==> sanitized build (ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DSYSCG_SANITIZER=address -DSYSCG_WERROR=ON -DSYSCG_BENCH=OFF
echo "==> unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -L unit
