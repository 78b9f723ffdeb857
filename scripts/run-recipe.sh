#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs the system packages, fetches MNIST into
# data/mnist (MD5-verified), builds in release mode and runs the whole recipe. Arguments go to
# `distill` (see `.build/release/distill --help`); set RANKS=N to run N MPI ranks on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-mnist.sh data/mnist
swift build -c release --product distill
[[ "${RANKS:-1}" =~ ^[1-9][0-9]*$ ]] || { echo "run-recipe: RANKS must be a positive integer, got '$RANKS'" >&2; exit 2; }
if [ "${RANKS:-1}" -gt 1 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    exec mpirun --oversubscribe --bind-to none --mca btl_vader_single_copy_mechanism none \
        -np "$RANKS" .build/release/distill "$@"
fi
exec .build/release/distill "$@"
