#!/usr/bin/env bash
# Counts heap allocations per training step: preloads scripts/alloc-counter.c into `distill bench`.
# - With --gemm openblas every training workload must allocate nothing per step.
# - With --gemm onednn (the default) oneDNN 2.6.3's own dnnl_primitive_execute allocates a few small
#   blocks per call; the count per step must be constant: the same over a short and a long stretch of
#   epochs that each end in a smaller batch (so a plan made mid-epoch, or a count that grows, fails).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DISTILL_BIN:-.build/release/distill}
[ -x "$bin" ] || swift build -c release --product distill
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${CC:-cc}" -shared -fPIC -O2 -o "$work/liballoc-counter.so" scripts/alloc-counter.c
for gemm in openblas onednn; do
    LD_PRELOAD="$work/liballoc-counter.so" "$bin" bench --gemm "$gemm" --workloads teacher student distill distill-running \
        --steps 8 | tee "$work/bench-$gemm.txt"
    # Column 8 of the table is allocations/step: one figure when constant, "A then B" when not.
    awk -F'|' -v gemm="$gemm" '/^\| (teacher|student|distill|distill-running) / {
        value = $8; gsub(/^ +| +$/, "", value); n++
        if (gemm == "openblas" && value != "0.00") { print "allocations per step in " $2 "with openblas: " value; bad = 1 }
        if (gemm == "onednn" && value !~ /^[0-9]+\.[0-9]+$/) { print "allocations per step in " $2 "with onednn are not constant: " value; bad = 1 }
    } END { if (n != 4) { print "expected 4 workloads, found " n; bad = 1 }; exit bad }' "$work/bench-$gemm.txt"
done
echo "check-allocations: no training step allocates with openblas; with onednn a constant count per step (oneDNN's own execute calls)"
