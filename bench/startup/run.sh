#!/usr/bin/env bash
# Startup figures for the single-file publish (Properties/PublishProfiles/linux-x64.pubxml): binary size, time from
# exec to the first proxied 200 (approle auto-auth login included: GET /v1/sys/health through Gatehouse with
# use_auto_auth_token = "force"), and idle RSS a few seconds later. DevVault runs from bench/load's host program.
# Usage: bench/startup/run.sh [runs, default 5]. Set SKIP_PUBLISH=1 to reuse artifacts/publish/linux-x64/gatehouse
# (or the build named by BIN=).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-5}
OUT=$(mktemp -d /tmp/gatehouse-startup.XXXXXX)
VAULT_PORT=${VAULT_PORT:-18211}
PROXY_PORT=${PROXY_PORT:-18212}
BIN=${BIN:-"$ROOT/artifacts/publish/linux-x64/gatehouse"}   # with SKIP_PUBLISH=1, BIN=path measures another build
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

if [[ "${SKIP_PUBLISH:-0}" != 1 ]]; then
  echo "publishing (single file, ReadyToRun)..." >&2
  dotnet publish "$ROOT/src/Gatehouse" -p:PublishProfile=linux-x64 >/dev/null
fi
dotnet build -c Release "$ROOT/bench/load/Gatehouse.Load" -o "$OUT/load" >/dev/null

source "$ROOT/bench/lib.sh"
start_devvault
provision_approle

size=$(stat -c %s "$BIN")
printf 'binary: %s bytes (%.1f MB)\n' "$size" "$(echo "$size / 1000000" | bc -l)"

times=()
for run in $(seq 1 "$RUNS"); do
  new_secret_id
  cat > "$OUT/proxy.hcl" <<HCL
vault {
  address = "http://127.0.0.1:$VAULT_PORT"
}
auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "$OUT/role_id"
      secret_id_file_path = "$OUT/secret_id"
    }
  }
}
api_proxy {
  use_auto_auth_token = "force"
}
listener "tcp" {
  address     = "127.0.0.1:$PROXY_PORT"
  tls_disable = true
}
HCL
  start=$(date +%s%N)
  "$BIN" proxy -config="$OUT/proxy.hcl" > "$OUT/gatehouse.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  ok=0
  for _ in $(seq 1 2000); do   # bounded: at most ~20 s
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/v1/sys/health" 2>/dev/null)" == 200 ]]; then ok=1; break; fi
    sleep 0.01
  done
  end=$(date +%s%N)
  [[ $ok == 1 ]] || { echo "run $run: no proxied 200; log:" >&2; cat "$OUT/gatehouse.log" >&2; exit 1; }
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  if [[ $run == "$RUNS" ]]; then
    sleep 3
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    printf 'idle RSS after the first request + 3 s: %s KiB (%.1f MiB)\n' "$rss" "$(echo "$rss / 1024" | bc -l)"
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "exec to first proxied 200 (approle login included), ms: $sorted(median $median)"
