#!/usr/bin/env bash
# Installs what the load benchmark (bench/load/run.sh) drives and compares with, and nothing else:
#   - Debian's wrk (the load generator);
#   - Debian's nginx-light (nginx serving a static JSON file: the ceiling of this machine's HTTP stack, the "hit ÷
#     nginx" ratio). Only the binary is used; the benchmark runs its own nginx with its own config on a loopback port
#     and the Debian service is left stopped and disabled as the package leaves it (policy-rc.d is not touched).
# Idempotent and quiet: when everything is in place it only checks and prints nothing.
# `apt-get update` runs only when apt knows no candidate for a missing package. Needs root, or sudo, only when a
# Debian package is missing; waits up to 5 minutes for another apt run's lock.
# The tests never need these (bench/ is never run by `dotnet test`).
set -euo pipefail

log=$(mktemp)
trap 'rm -f "$log"' EXIT

say() { echo "install-bench-deps: $*"; }

# Runs a command with its output in $log; prints that output only if the command fails.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    say "failed: $*" >&2
    exit 1
  fi
}

has_candidate() { [[ "$(apt-cache policy "$1" 2>/dev/null || true)" =~ Candidate:\ [^\(] ]]; }

debs=()
command -v wrk >/dev/null 2>&1 || debs+=(wrk)
[ -x /usr/sbin/nginx ] || debs+=(nginx-light)

if [ "${#debs[@]}" -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root (or sudo) to apt-get install ${debs[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  for deb in "${debs[@]}"; do
    if ! has_candidate "$deb"; then
      say "apt-get update (apt has no candidate for $deb)"
      quietly "${sudo[@]}" apt-get update -qq
      break
    fi
  done
  say "apt-get install ${debs[*]}"
  quietly "${sudo[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${debs[@]}"
  # The package starts its own service on port 80 when it can; the benchmark needs only the binary.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    quietly "${sudo[@]}" systemctl stop nginx
  fi
fi
