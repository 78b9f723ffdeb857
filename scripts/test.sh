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
# "Executed 280 tests, with 2 tests skipped and 0 failures": the whole run's line is the last of them.
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -1 || true)
executed=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")
skipped=$(sed -E -n 's/.*with ([0-9]+) tests? skipped.*/\1/p' <<<"$summary")
if [ -z "$summary" ] || [ "$executed" -eq 0 ]; then
    echo "test.sh: no test ran" >&2
    exit 1
fi
echo "$((executed - failed - ${skipped:-0})) passed, $failed failed, ${skipped:-0} skipped"
exit "$status"
