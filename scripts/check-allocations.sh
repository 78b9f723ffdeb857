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
# A model with Dropout (masks drawn each step), BatchNormalization (reductions each step) and layers
# the presets do not use.
cat > "$work/dropout.json" <<'JSON'
{"class_name": "Sequential", "config": {"name": "dropout", "layers": [
  {"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1], "name": "input_layer"}},
  {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": 8, "kernel_size": 3, "strides": 2, "use_bias": false}},
  {"class_name": "BatchNormalization", "config": {"name": "batch_normalization"}},
  {"class_name": "ReLU", "config": {"name": "re_lu"}},
  {"class_name": "AveragePooling2D", "config": {"name": "average_pooling2d", "pool_size": 2, "padding": "same"}},
  {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.25}},
  {"class_name": "Flatten", "config": {"name": "flatten"}},
  {"class_name": "Dense", "config": {"name": "dense", "units": 32, "activation": "relu"}},
  {"class_name": "Dropout", "config": {"name": "dropout_1", "rate": 0.5}},
  {"class_name": "Dense", "config": {"name": "dense_1", "units": 10, "activation": "softmax"}}]}}
JSON
# Graph models: a residual teacher (BatchNormalization, Dropout, Add: a fan-out and a fan-in) and a
# depthwise student (the MobileNet-like network: DepthwiseConv2D, SeparableConv2D, ZeroPadding2D,
# ReLU6), from the Keras fixtures; with onednn too, whose depthwise convolutions run through its own primitives.
# The graph runs also distil with feature hints (a 1x1 Conv2D regressor and a Dense one, the teacher run to its layer).
graph=Tests/Fixtures/keras-graph
# "ranks": the graph models on two ranks that are threads of this process (--ranks 2), counted together.
for run in "openblas" "onednn" "openblas dropout" "openblas graph" "onednn graph" "openblas graph ranks" "onednn graph ranks"; do
    read -r gemm models ranks <<<"$run"
    extra=() workloads=4
    [ "${ranks:-}" = ranks ] && extra=(--ranks 2)
    [ "${models:-}" = dropout ] && extra=(--teacher-model "$work/dropout.json" --student-model "$work/dropout.json")
    [ "${models:-}" = graph ] && extra+=(--teacher-model "$graph/residual.json" --student-model "$graph/${GRAPH_STUDENT:-mobilenet-like}.json")
    # The hints name the MobileNet-like student's layers.
    [ "${models:-}" = graph ] && [ -z "${GRAPH_STUDENT:-}" ] && extra+=(--hint block2_out:block1_add --hint pool:pool:0.5) && workloads=5
    LD_PRELOAD="$work/liballoc-counter.so" "$bin" bench --gemm "$gemm" --workloads teacher student distill distill-running \
        --steps 8 "${extra[@]}" | tee "$work/bench-$gemm.txt"
    # The table's last column is allocations/step: one figure when constant, "A then B" when not.
    awk -F'|' -v gemm="$gemm" -v expected="$workloads" '/^\| (teacher|student|distill|distill-running|distill-hinted) / {
        value = $(NF - 1); gsub(/^ +| +$/, "", value); n++
        if (gemm == "openblas" && value != "0.00") { print "allocations per step in " $2 "with openblas: " value; bad = 1 }
        if (gemm == "onednn" && value !~ /^[0-9]+\.[0-9]+$/) { print "allocations per step in " $2 "with onednn are not constant: " value; bad = 1 }
    } END { if (n != expected) { print "expected " expected " workloads, found " n; bad = 1 }; exit bad }' "$work/bench-$gemm.txt"
done
echo "check-allocations: no training step allocates with openblas (the presets, a model with BatchNormalization and Dropout,"
echo "  a residual graph teacher and a MobileNet-like graph student, distilled with and without feature hints,"
echo "  also on two ranks as threads of one process);"
echo "  with onednn a constant count per step (oneDNN's own execute calls)"
