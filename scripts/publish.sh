#!/usr/bin/env bash
# Publishes the shipped form of Gatehouse for this machine's architecture: Native AOT, publish profile linux-x64 or
# linux-arm64 (3-4 minutes on a quiet 2-core machine; an unchanged tree is not compiled again). Prints the binary's
# path as its last line. Trim and AOT warnings are errors here as in every build.
# Usage: scripts/publish.sh [dotnet publish arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64 | arm64) rid=linux-arm64 ;;
  *) echo "publish: Gatehouse is published for x86_64 and aarch64, not $(uname -m)" >&2; exit 1 ;;
esac

started=$SECONDS
dotnet publish src/Gatehouse -p:PublishProfile="$rid" -nologo -v:q "$@" >&2
echo "publish: Native AOT $rid in $((SECONDS - started)) s" >&2
echo "$PWD/artifacts/publish/$rid/gatehouse"
