#!/usr/bin/env bash
# The test command: installs the system packages, builds in release mode (tests train real
# models, so optimised code keeps them quick) and runs every test: the XCTest suites (layers,
# losses, data, checkpoints, the collectives across two processes under mpirun, the recipe end
# to end, np=1 vs np=2 equivalence) and the no-allocation check of the training steps.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
flags=(-c release -Xswiftc -enable-testing)

swift build "${flags[@]}" --build-tests
DISTILL_BIN=.build/release/distill scripts/check-allocations.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test "${flags[@]}" --skip-build --disable-swift-testing 2>&1 | tee "$log" || status=$?
# One plain closing line for the whole XCTest run.
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1 || true)
executed=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$summary")
if [ -z "$summary" ] || [ "$executed" -eq 0 ]; then
    echo "test.sh: no test ran" >&2
    exit 1
fi
echo "$((executed - failed)) passed, $failed failed"
exit "$status"
