#!/usr/bin/env bash
# Installs what syscg needs and runs every check, as root:
#  1. the sources are clang-formatted (.clang-format);
#  2. a plain build (GCC, RelWithDebInfo, warnings as errors): all tests;
#  3. the enforcer alone, without FUSE (no libfuse include path anywhere):
#     its unit tests;
#  4. an ASan + UBSan build (Debug): all tests, the daemon of the
#     integration tests running under the sanitizers too;
#  5. a TSan build: the fs and enforcer integration tests, daemon under TSan;
#  6. a Clang build with the thread-safety analysis (lock annotations);
#  7. Release and MinSizeRel builds (every standard build type builds).
# SYSCG_TEST_QUICK=1 stops after step 2.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"

echo "==> format check (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1))"
format_sources | xargs clang-format --dry-run -Werror

echo "==> plain build"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_WERROR=ON
echo "==> all tests"
ctest --test-dir build --output-on-failure -j"$(nproc)"
[ "${SYSCG_TEST_QUICK:-0}" = 1 ] && exit 0

echo "==> the enforcer without FUSE"
build build-nofuse -DSYSCG_FUSE=OFF -DSYSCG_WERROR=ON
if grep -q "fuse3\|FUSE_USE_VERSION" build-nofuse/compile_commands.json; then
  echo "a target of the FUSE-free build sees libfuse" >&2
  exit 1
fi
ctest --test-dir build-nofuse --output-on-failure -j"$(nproc)" -L unit

# A sanitizer report in the daemon aborts it: its mount goes away and the
# test that used it fails, with the report in the test's output.
echo "==> sanitized build (ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DSYSCG_SANITIZER=address -DSYSCG_WERROR=ON -DSYSCG_BENCH=OFF
echo "==> all tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)"

echo "==> TSan build"
build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_SANITIZER=thread -DSYSCG_WERROR=ON -DSYSCG_BENCH=OFF
echo "==> fs and enforcer integration tests under TSan"
TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" -L integration

echo "==> Clang build with the thread-safety analysis"
CC=clang CXX=clang++ build build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYSCG_THREAD_SAFETY=ON -DSYSCG_WERROR=ON
echo "==> Clang unit tests"
ctest --test-dir build-clang --output-on-failure -j"$(nproc)" -L unit

for type in Release MinSizeRel; do
  echo "==> $type build"
  build "build-$(echo "$type" | tr '[:upper:]' '[:lower:]')" -DCMAKE_BUILD_TYPE="$type" -DSYSCG_WERROR=ON
done
echo "==> all checks passed"
