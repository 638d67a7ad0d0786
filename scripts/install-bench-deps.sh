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

say_as=install-bench-deps
# shellcheck source=lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"

debs=()
command -v wrk >/dev/null 2>&1 || debs+=(wrk)
[ -x /usr/sbin/nginx ] || debs+=(nginx-light)

if [ "${#debs[@]}" -gt 0 ]; then
  apt_install "${debs[@]}"
  # The package starts its own service on port 80 when it can; the benchmark needs only the binary.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    quietly "${sudo[@]}" systemctl stop nginx
  fi
fi
