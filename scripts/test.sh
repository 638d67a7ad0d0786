#!/usr/bin/env bash
# The one test command, on a fresh machine or an old one: installs what the tests run (scripts/install-test-deps.sh;
# quiet and quick when already installed), publishes the shipped form (Native AOT, scripts/publish.sh), then runs
# every test suite with GATEHOUSE_TEST_EXECUTABLE naming that binary: every test that starts the `gatehouse`
# executable ([Trait("Executable", "true")]: dev, validate, proxy with each auto-auth method's emulator, signals, the
# Debian package) runs what ships, not a JIT build.
# Arguments go to `dotnet test`, e.g. scripts/test.sh --filter 'FullyQualifiedName~RealClients'.
# GATEHOUSE_TEST_EXECUTABLE set beforehand: that binary is tested and nothing is published.
# GATEHOUSE_TEST_PUBLISH=0: no publish; the executable tests run the apphost built beside them (a quicker loop).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
if [ -z "${GATEHOUSE_TEST_EXECUTABLE:-}" ] && [ "${GATEHOUSE_TEST_PUBLISH:-1}" != 0 ]; then
  GATEHOUSE_TEST_EXECUTABLE=$(scripts/publish.sh | tail -n1)
  export GATEHOUSE_TEST_EXECUTABLE
fi
if [ -n "${GATEHOUSE_TEST_EXECUTABLE:-}" ]; then
  echo "test: executable tests run $("$GATEHOUSE_TEST_EXECUTABLE" version) at $GATEHOUSE_TEST_EXECUTABLE"
fi
exec dotnet test Gatehouse.slnx "$@"
