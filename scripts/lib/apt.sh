# Sourced by scripts/install-*-deps.sh: quiet, idempotent installs of Debian packages.
# The sourcing script sets `say_as` (its name in messages) and `set -euo pipefail` first.
# shellcheck shell=bash

apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT

say() { echo "${say_as:-install}: $*"; }

# Runs a command with its output in $apt_log; prints that output only if the command fails.
quietly() {
  if ! "$@" >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    say "failed: $*" >&2
    exit 1
  fi
}

# (Outputs are captured, not piped into grep -q: under pipefail a writer killed by SIGPIPE would fail the test.)
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
has_candidate() { [[ "$(apt-cache policy "$1" 2>/dev/null || true)" =~ Candidate:\ [^\(] ]]; }

# apt_install DEB... — installs the named packages (none: does nothing). `apt-get update` runs only when apt knows no
# candidate for one of them; root, or sudo, is needed only then; waits up to 5 minutes for another apt run's lock.
# Sets `sudo` (an array: empty when root) for the caller's follow-up commands.
sudo=()
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root (or sudo) to apt-get install $*" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  local deb
  for deb in "$@"; do
    if ! has_candidate "$deb"; then
      say "apt-get update (apt has no candidate for $deb)"
      quietly "${sudo[@]}" apt-get update -qq
      break
    fi
  done
  say "apt-get install $*"
  quietly "${sudo[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "$@"
}
