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
swift test "${flags[@]}" --skip-build
