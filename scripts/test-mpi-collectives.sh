#!/usr/bin/env bash
# Checks the Collective target across real processes with Open MPI's mpirun:
#   1. mpirun -np 2 collective-check --expect-size 2            must pass ("N passed, 0 failed")
#   2. mpirun -np 1 collective-check --expect-size 2            must fail (too few ranks)
#   3. mpirun -np 2 collective-check --expect-size 2 --fail-on-rank 1
#                                                               must fail, not hang
# Every run is under `timeout 120`; a timeout counts as a failure.
#
# Environment: SCRATCH  build directory for `swift build --scratch-path` (default .build)
#              CONFIG   debug or release (default debug)
set -uo pipefail
cd "$(dirname "$0")/.."

scratch="${SCRATCH:-.build}"
config="${CONFIG:-debug}"

# Root is allowed in containers; one OpenBLAS thread per rank (ranks x threads = cores).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

swift build --scratch-path "$scratch" -c "$config" --product collective-check || exit 1
bin="$(swift build --scratch-path "$scratch" -c "$config" --show-bin-path)" || exit 1
check="$bin/collective-check"

# --oversubscribe: run even where fewer cores (slots) are visible than ranks.
# --bind-to none:  do not pin each rank to one core (containers with restricted cpusets,
#                  and OpenBLAS threads inside a rank).
# btl_vader_single_copy_mechanism none: shared memory without CMA (process_vm_readv),
#                  which containers without CAP_SYS_PTRACE refuse.
mpirun=(timeout 120 mpirun --allow-run-as-root --oversubscribe --bind-to none
        --mca btl_vader_single_copy_mechanism none)

failures=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# run NAME EXPECT ARGS...: runs ARGS, keeps stdout+stderr in $log, and checks the outcome.
run() {
    local name="$1" expect="$2"; shift 2
    echo "--- $name: $*"
    "$@" >"$log" 2>&1
    local status=$?
    cat "$log"
    if [ "$status" -eq 124 ]; then
        echo "FAIL $name: timed out (a rank hung)"; failures=$((failures + 1))
    elif [ "$expect" = pass ] && { [ "$status" -ne 0 ] || ! grep -Eq '^[1-9][0-9]* passed, 0 failed$' "$log"; }; then
        echo "FAIL $name: exit status $status, expected 0 and a line 'N passed, 0 failed'"; failures=$((failures + 1))
    elif [ "$expect" = fail ] && [ "$status" -eq 0 ]; then
        echo "FAIL $name: exit status 0, expected a failure"; failures=$((failures + 1))
    elif [ "$expect" = fail ] && ! grep -q '^error: ' "$log"; then
        echo "FAIL $name: exit status $status but no 'error: ' message"; failures=$((failures + 1))
    else
        echo "ok   $name (exit status $status)"
    fi
}

run "two ranks pass" pass "${mpirun[@]}" -np 2 "$check" --expect-size 2
run "one rank where two are expected fails" fail "${mpirun[@]}" -np 1 "$check" --expect-size 2
run "a failing rank ends the job" fail "${mpirun[@]}" -np 2 "$check" --expect-size 2 --fail-on-rank 1

if [ "$failures" -ne 0 ]; then
    echo "test-mpi-collectives: $failures run(s) failed"
    exit 1
fi
echo "test-mpi-collectives: all runs behaved"
