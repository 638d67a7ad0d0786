#!/usr/bin/env bash
# The process-level tests against Native AOT, the candidate shipped form of Gatehouse: publishes it (publish profile
# linux-x64-aot; 3-4 minutes on a quiet 2-core machine, 37 under load 25-40) and runs every test that starts the real
# executable -- those marked
# [Trait("Executable", "true")]: `gatehouse dev`, `validate`, `proxy` with each auto-auth method that has an emulator,
# listeners, signals, caches, metrics, and tests/deb/run.sh packaging that very binary -- with GATEHOUSE_TEST_EXECUTABLE
# pointing at it (tests/Gatehouse.IntegrationTests/Support/GatehouseExecutable.cs). Not in .ci/run yet (gcp iam's two
# cases, which failed through the AOT binary while gcp used Google.Apis.Auth, pass since it does not). --binary also tests the shipped
# single file (artifacts/publish/linux-x64/gatehouse) or any other build.
#
# Usage: scripts/test-published.sh [--binary FILE] [dotnet test arguments]
#   --binary   test this already-published binary instead of publishing (e.g. artifacts/publish/linux-x64-aot/gatehouse)
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
  dotnet publish src/Gatehouse -p:PublishProfile=linux-x64-aot -nologo -v:q
  echo "test-published: Native AOT publish took $((SECONDS - started)) s"
  binary=artifacts/publish/linux-x64-aot/gatehouse
fi
[ -x "$binary" ] || { echo "test-published: no executable at $binary" >&2; exit 1; }

GATEHOUSE_TEST_EXECUTABLE=$(realpath "$binary")
export GATEHOUSE_TEST_EXECUTABLE
echo "test-published: $("$GATEHOUSE_TEST_EXECUTABLE" version) at $GATEHOUSE_TEST_EXECUTABLE"
exec dotnet test Gatehouse.slnx --filter "Executable=true" "$@"
