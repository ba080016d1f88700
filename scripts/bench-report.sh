#!/usr/bin/env bash
# Runs the benchmarks and writes their tables and plots into docs/bench/ and
# the README (between the <!-- bench:NAME --> markers). Run as root.
#   scripts/bench-report.sh            all benchmark programs
#   scripts/bench-report.sh core       only bench/core_bench
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
install_packages
cd "$SYSCG_ROOT"
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSYSCG_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target core_bench fs_bench bpf_bench enforcer_bench restart_bench syscgfs syscg

mkdir -p bench/results docs/bench
which=${1:-all}
run_bench() {  # NAME
  local name=$1
  echo "==> ${name}_bench"
  # Pinned to one core, 5 repetitions; the report uses the medians.
  taskset -c 1 "./build-bench/bench/${name}_bench" \
    --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out="bench/results/${name}.json" --benchmark_out_format=json >/dev/null
}
if [ "$which" = all ] || [ "$which" = core ]; then run_bench core; fi
if [ "$which" = all ] || [ "$which" = fs ]; then
  echo "==> fs_bench (mounts syscgfs on a temporary directory)"
  # Pinned like the others: on this kind of VM a wake-up on the other vCPU
  # costs tens of µs, which would be measured instead of syscgfs.
  taskset -c 1 ./build-bench/bench/fs_bench --benchmark_out=bench/results/fs.json \
    --benchmark_out_format=json >/dev/null
fi
if [ "$which" = all ] || [ "$which" = bpf ]; then
  echo "==> bpf_bench"
  ./build-bench/bench/bpf_bench --benchmark_out=bench/results/bpf.json --benchmark_out_format=json >/dev/null
fi
if [ "$which" = all ] || [ "$which" = enforcer ]; then
  echo "==> enforcer_bench (forked members, victims, a syscgfs mount)"
  taskset -c 1 ./build-bench/bench/enforcer_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out=bench/results/enforcer.json --benchmark_out_format=json >/dev/null
fi
if [ "$which" = all ] || [ "$which" = restart ]; then
  echo "==> restart_bench (syscg restart with 1, 100 and 1 000 members)"
  ./build-bench/bench/restart_bench --benchmark_out=bench/results/restart.json --benchmark_out_format=json >/dev/null
fi
python3 scripts/bench_report.py --results bench/results --docs docs/bench --readme README.md
