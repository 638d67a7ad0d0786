#!/usr/bin/env bash
# Only the process-level tests, against the shipped form: publishes it (scripts/publish.sh, Native AOT) and runs every
# test that starts the real executable -- those marked [Trait("Executable", "true")]: `gatehouse dev`, `validate`,
# `proxy` with each auto-auth method that has an emulator, listeners, signals, caches, metrics, and tests/deb/run.sh
# packaging that very binary -- with GATEHOUSE_TEST_EXECUTABLE pointing at it
# (tests/Gatehouse.IntegrationTests/Support/GatehouseExecutable.cs). scripts/test.sh runs them too, with everything else.
#
# Usage: scripts/test-published.sh [--binary FILE] [dotnet test arguments]
#   --binary   test this already-published binary instead of publishing (a JIT single file, another machine's build)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

binary=""
if [ "${1:-}" = "--binary" ]; then
  binary="$2"
  shift 2
fi
[ -n "$binary" ] || binary=$(scripts/publish.sh | tail -n1)
[ -x "$binary" ] || { echo "test-published: no executable at $binary" >&2; exit 1; }

GATEHOUSE_TEST_EXECUTABLE=$(realpath "$binary")
export GATEHOUSE_TEST_EXECUTABLE
echo "test-published: $("$GATEHOUSE_TEST_EXECUTABLE" version) at $GATEHOUSE_TEST_EXECUTABLE"
exec dotnet test Gatehouse.slnx --filter "Executable=true" "$@"
