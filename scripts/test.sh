#!/usr/bin/env bash
# The one test command, on a fresh machine or an old one: installs what the real-client tests run
# (scripts/install-test-deps.sh; quiet and quick when already installed), then runs every test suite.
# Arguments go to `dotnet test`, e.g. scripts/test.sh --filter 'FullyQualifiedName~RealClients'.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
exec dotnet test Gatehouse.slnx "$@"
