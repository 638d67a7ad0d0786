#!/usr/bin/env bash
# The process-level tests against the shipped form of Gatehouse: publishes the Native AOT binary (publish profile
# linux-x64; 3-4 minutes on 2 cores) and runs every test that starts the real executable -- those marked
# [Trait("Executable", "true")]: `gatehouse dev`, `validate`, `proxy` with each auto-auth method that has an emulator,
# listeners, signals, caches, metrics, and tests/deb/run.sh packaging that very binary -- with GATEHOUSE_TEST_EXECUTABLE
# pointing at it (tests/Gatehouse.IntegrationTests/Support/GatehouseExecutable.cs). .ci/run runs it after the suite.
#
# Usage: scripts/test-published.sh [--binary FILE] [dotnet test arguments]
#   --binary   test this already-published binary instead of publishing (e.g. artifacts/publish/linux-x64/gatehouse)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

binary=""
if [ "${1:-}" = "--binary" ]; then
  binary="$2"
  shift 2
fi

if [ -z "$binary" ]; then
  started=$SECONDS
  # TreatWarningsAsErrors holds here too: a trim or AOT warning from our code fails the publish.
  dotnet publish src/Gatehouse -p:PublishProfile=linux-x64 -nologo -v:q
  echo "test-published: Native AOT publish took $((SECONDS - started)) s"
  binary=artifacts/publish/linux-x64/gatehouse
fi
[ -x "$binary" ] || { echo "test-published: no executable at $binary" >&2; exit 1; }

GATEHOUSE_TEST_EXECUTABLE=$(realpath "$binary")
export GATEHOUSE_TEST_EXECUTABLE
echo "test-published: $("$GATEHOUSE_TEST_EXECUTABLE" version) at $GATEHOUSE_TEST_EXECUTABLE"
exec dotnet test Gatehouse.slnx --filter "Executable=true" "$@"
