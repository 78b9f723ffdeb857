#!/usr/bin/env bash
# Counts heap allocations per training step: preloads scripts/alloc-counter.c into
# `distill bench` and fails unless every training workload allocates nothing per step.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DISTILL_BIN:-.build/release/distill}
[ -x "$bin" ] || swift build -c release --product distill
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${CC:-cc}" -shared -fPIC -O2 -o "$work/liballoc-counter.so" scripts/alloc-counter.c
LD_PRELOAD="$work/liballoc-counter.so" "$bin" bench --workloads teacher student distill distill-running --steps 8 | tee "$work/bench.txt"
# Column 8 of the table is allocations/step; every training workload must show 0.00.
awk -F'|' '/^\| (teacher|student|distill|distill-running) / {
    gsub(/ /, "", $8); n++
    if ($8 != "0.00") { print "allocations per step in " $2 ": " $8; bad = 1 }
} END { if (n != 4) { print "expected 4 workloads, found " n; bad = 1 }; exit bad }' "$work/bench.txt"
echo "check-allocations: no training step allocates"
