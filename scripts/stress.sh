#!/usr/bin/env bash
# Runs the integration tests again and again, in parallel and under CPU load,
# to shake out races (issue 9): builds into ./build, starts nproc+1 busy
# loops, then runs `ctest -L integration -j(2*nproc)` N times, stopping at the
# first failing run. The load is always stopped on exit. Run as root.
#
#   scripts/stress.sh [-n N] [-B BUILD_DIR]    N runs (default 20)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { echo "usage: $(basename "$0") [-n RUNS] [-B BUILD_DIR]"; }

runs=20
build_dir=build
while getopts "n:B:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    B) build_dir=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "$(basename "$0"): -n takes a positive number of runs" >&2
  exit 2
fi

need_root
install_packages
cd "$SYSCG_ROOT"

echo "==> build ($build_dir)"
build "$build_dir"

jobs=$(( $(nproc) * 2 ))
load=$(( $(nproc) + 1 ))
load_pids=()
stop_load() {
  local p
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${load_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  load_pids=()
}
trap stop_load EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> $runs runs of the integration tests, $jobs jobs, under $load busy loops"
for ((i = 0; i < load; i++)); do
  ( while :; do :; done ) &
  load_pids+=("$!")
done

log=$(mktemp /tmp/syscg-stress.XXXXXX)
for ((run = 1; run <= runs; run++)); do
  start=$SECONDS
  if ! ctest --test-dir "$build_dir" -L integration -j"$jobs" --output-on-failure >"$log" 2>&1; then
    echo "stress: run $run/$runs FAILED under load ($jobs jobs, $load load processes); failing tests:"
    sed -n '/The following tests FAILED:/,$p' "$log" | sed '1d' | grep -v '^Errors while running CTest' || true
    echo "stress: the whole output of that run is in $log"
    exit 1
  fi
  echo "stress: run $run/$runs passed ($((SECONDS - start)) s)"
done
rm -f "$log"
echo "stress: $runs/$runs runs passed under load ($jobs jobs, $load load processes)"
