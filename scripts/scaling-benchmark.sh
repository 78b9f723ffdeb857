#!/usr/bin/env bash
# Scaling of swift-distill under mpirun on this machine, all figures from one run:
#   strong scaling  fixed global batch (--batch, default 32) split over np = 1..cores ranks
#   weak scaling    fixed per-rank batch (--batch per rank, global = batch x np)
#   ceiling         np concurrent plain GEMMs of the teacher's largest shape against one alone
#   threads         1 rank x N GEMM threads against N ranks x 1 thread
# for the teacher training step, the student distillation step (cached teacher logits) and
# the teacher-logit pass. Each rank runs one thread of the GEMM backend (GEMM=onednn|openblas, default onednn). Writes bench-out/scaling.csv,
# bench-out/scaling.png (speedup against ideal, gnuplot) and prints a Markdown table.
#
# Usage: scripts/scaling-benchmark.sh [--steps N] [--batch B] [--oversubscribe] [--out DIR]
#   --oversubscribe  also run np = cores + 1 and cores x 2 (more ranks than cores; marked as such)
set -euo pipefail
cd "$(dirname "$0")/.."

steps=20 batch=32 oversubscribe=0 out=bench-out
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) steps="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --oversubscribe) oversubscribe=1; shift ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "scaling-benchmark: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for value in "$steps" "$batch"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "scaling-benchmark: --steps and --batch take positive integers, got '$value'" >&2; exit 2; }
done

swift build -c release --product distill >/dev/null
bin=.build/release/distill
cores=$(nproc)
ranks=($(seq 1 "$cores"))
[ "$oversubscribe" -eq 1 ] && ranks+=($((cores + 1)) $((cores * 2)))
mkdir -p "$out"
csv="$out/scaling.csv"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

# bench NP THREADS GLOBAL_BATCH WORKLOADS...: prints the CSV lines of `distill bench --csv`.
bench() {
    local np="$1" threads="$2" global="$3"; shift 3
    timeout 1800 mpirun --allow-run-as-root --oversubscribe --bind-to none \
        --mca btl_vader_single_copy_mechanism none -np "$np" \
        "$bin" bench --csv --gemm "${GEMM:-onednn}" --threads "$threads" --batch-size "$global" --steps "$steps" --workloads "$@" |
        grep -E '^[a-z-]+,[0-9]+,'
}

echo "mode,workload,ranks,threads,global_batch,samples_per_s,compute_ms_per_step,allreduce_ms_per_step,gflops_per_rank,oversubscribed" > "$csv"
for np in "${ranks[@]}"; do
    over=$([ "$np" -gt "$cores" ] && echo yes || echo no)
    echo "scaling-benchmark: np=$np$([ "$over" = yes ] && echo ' (oversubscribed)')" >&2
    bench "$np" 1 "$batch" teacher distill distill-running logits | sed "s/^/strong,/; s/$/,$over/" >> "$csv"
    bench "$np" 1 $((batch * np)) teacher distill | sed "s/^/weak,/; s/$/,$over/" >> "$csv"
    bench "$np" 1 $((batch * np)) gemm | sed "s/^/ceiling,/; s/$/,$over/" >> "$csv"
done
bench 1 "$cores" "$batch" teacher distill logits | sed "s/^/threads,/; s/$/,no/" >> "$csv"

python3 - "$csv" "$out" "$cores" <<'PY'
import csv, sys
path, out, cores = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(path)))
def rate(r):  # the figure that scales: samples/s, or GFLOPS per rank x ranks for the sgemm ceiling
    return float(r["gflops_per_rank"]) * int(r["ranks"]) if r["workload"] == "gemm" else float(r["samples_per_s"])
base = {(r["mode"], r["workload"]): rate(r) for r in rows if r["ranks"] == "1" and r["mode"] != "threads"}
for r in rows:
    key = ("strong" if r["mode"] == "threads" else r["mode"], r["workload"])
    speedup = rate(r) / base[key] if key in base else float("nan")
    workers = int(r["ranks"]) * int(r["threads"])
    r["speedup"], r["efficiency"] = f"{speedup:.3f}", f"{speedup / workers:.3f}"
with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    writer.writeheader(); writer.writerows(rows)
# gnuplot data: np, then the strong-scaling speedup of each workload, then the ceiling.
series = [("strong", "teacher"), ("strong", "distill"), ("strong", "logits"), ("weak", "teacher"), ("ceiling", "gemm")]
with open(f"{out}/scaling.dat", "w") as f:
    for np_ in sorted({int(r["ranks"]) for r in rows if r["mode"] != "threads"}):
        cells = [next((r["speedup"] for r in rows if r["mode"] == m and r["workload"] == w and int(r["ranks"]) == np_), "nan") for m, w in series]
        f.write(f"{np_} " + " ".join(cells) + "\n")
print("| mode | workload | ranks x threads | global batch | samples/s | compute ms/step | allreduce ms/step | speedup | efficiency |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    over = " (oversubscribed)" if r["oversubscribed"] == "yes" else ""
    sps = f'{float(r["gflops_per_rank"]):.1f} GFLOPS/rank' if r["workload"] == "gemm" else f'{float(r["samples_per_s"]):.0f}'
    print(f'| {r["mode"]} | {r["workload"]} | {r["ranks"]} x {r["threads"]}{over} | {r["global_batch"]} | {sps} | '
          f'{float(r["compute_ms_per_step"]):.2f} | {float(r["allreduce_ms_per_step"]):.3f} | {r["speedup"]} | {float(r["efficiency"]):.1%} |')
teacher = next((r for r in rows if r["mode"] == "strong" and r["workload"] == "teacher" and int(r["ranks"]) == cores), None)
ceiling = next((r for r in rows if r["mode"] == "ceiling" and int(r["ranks"]) == cores), None)
if teacher and ceiling:
    print(f'\nteacher training, strong scaling at np={cores}: {float(teacher["efficiency"]):.1%} parallel efficiency; '
          f'hardware ceiling ({cores} concurrent plain GEMMs against one alone): {float(ceiling["efficiency"]):.1%}')
for np_ in sorted({r["ranks"] for r in rows if r["mode"] == "strong"}, key=int):
    rate_of = {r["workload"]: float(r["samples_per_s"]) for r in rows if r["mode"] == "strong" and r["ranks"] == np_}
    if "distill" in rate_of and "distill-running" in rate_of:
        print(f'np={np_}: distillation with cached teacher logits runs {rate_of["distill"] / rate_of["distill-running"]:.1f}x '
              f'the samples/s (so 1/{rate_of["distill"] / rate_of["distill-running"]:.1f} the epoch time) of running the teacher forward')
PY

gnuplot <<GP
set terminal pngcairo size 800,560
set output "$out/scaling.png"
set title "swift-distill scaling on $(hostname) ($cores cores, 1 ${GEMM:-onednn} thread per rank)"
set xlabel "MPI ranks"
set ylabel "speedup against 1 rank"
set key top left
set grid
set xtics 1
set xrange [1:$(( ${ranks[-1]} > 2 ? ${ranks[-1]} : 2 ))]
$( [ "${ranks[-1]}" -gt "$cores" ] && echo "set arrow from $cores, graph 0 to $cores, graph 1 nohead dashtype 3 lc rgb 'red'
set label 'oversubscribed ->' at $cores, graph 0.05 offset 1,0 tc rgb 'red'" )
plot x title "ideal" with lines dashtype 2 lc rgb "gray", \
     "$out/scaling.dat" using 1:2 title "teacher step (strong)" with linespoints, \
     "$out/scaling.dat" using 1:3 title "distillation step, cached logits (strong)" with linespoints, \
     "$out/scaling.dat" using 1:4 title "teacher-logit pass (strong)" with linespoints, \
     "$out/scaling.dat" using 1:5 title "teacher step (weak)" with linespoints, \
     "$out/scaling.dat" using 1:6 title "plain GEMM ceiling" with linespoints
GP
echo "scaling-benchmark: wrote $csv and $out/scaling.png" >&2
