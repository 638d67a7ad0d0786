#!/usr/bin/env bash
# Overload on loopback: many more client connections than Vault needs (default 2,000), pass-through GET secret (KV v2)
# with wrk -t2 --latency, straight at DevVault ("direct") and through a plain Gatehouse (no cache). Prints p50, p90,
# p99 and max latency, req/s, non-2xx answers (shed 503s), socket errors, and the most connections that process held
# open to DevVault during the run (sampled with ss every 0.5 s); the load average before and after.
#
# Usage: bench/load/overload.sh [seconds, default 10] [connections, default 2000]
#   API_PROXY_EXTRA='max_upstream_requests = 64'  lines added to this tree's api_proxy block (defaults otherwise)
#   COMPARE_REF=<git ref>   also build that commit and run it as a second Gatehouse ("ref") on the same DevVault
#   ROUNDS=<n>              repeat the runs n times (default 1); the order alternates each round, to spread drift
#   DEVVAULT_BACKLOG=<n>    DevVault's listen backlog (default Kestrel's 512); 128 is a Vault on a host whose
#                           net.core.somaxconn is 128 (Linux before 5.4), where a burst of new connections overflows
# Bounded: each wrk run lasts the given seconds (plus at most wrk's 30 s --timeout for a request still waiting).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-10}
CONNECTIONS=${2:-2000}
ROUNDS=${ROUNDS:-1}
OUT=$(mktemp -d /tmp/gatehouse-overload.XXXXXX)
VAULT_PORT=${VAULT_PORT:-18211}
PROXY_PORT=${PROXY_PORT:-18212}
REF_PORT=${REF_PORT:-18213}
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

# wrk, Gatehouse and DevVault each hold one descriptor per connection (Gatehouse two: client and upstream).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (( $(ulimit -n) < 2 * CONNECTIONS + 256 )); then
  echo "ulimit -n is $(ulimit -n); $CONNECTIONS connections need at least $((2 * CONNECTIONS + 256))" >&2
  exit 1
fi

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
fi

echo "building Release..." >&2
dotnet build -c Release "$ROOT/src/Gatehouse" -o "$OUT/gatehouse" >/dev/null
dotnet build -c Release "$ROOT/bench/load/Gatehouse.Load" -o "$OUT/load" >/dev/null
if [[ -n "${COMPARE_REF:-}" ]]; then
  echo "building $COMPARE_REF..." >&2
  mkdir -p "$OUT/ref-src"
  git -C "$ROOT" archive "$COMPARE_REF" | tar -x -C "$OUT/ref-src"
  dotnet build -c Release "$OUT/ref-src/src/Gatehouse" -o "$OUT/gatehouse-ref" >/dev/null
fi

source "$ROOT/bench/lib.sh"
start_devvault

start_gatehouse() { # name binary-dir port api-proxy-extra -> pid in GH_PID
  cat > "$OUT/proxy-$1.hcl" <<HCL
vault {
  address = "http://127.0.0.1:$VAULT_PORT"
}
api_proxy {
  use_auto_auth_token = false
  $4
}
listener "tcp" {
  address     = "127.0.0.1:$3"
  tls_disable = true
}
HCL
  "$2/gatehouse" proxy -config "$OUT/proxy-$1.hcl" > "$OUT/gatehouse-$1.log" 2>&1 &
  GH_PID=$!
  PIDS+=($GH_PID)
  wait_http "http://127.0.0.1:$3/v1/sys/health"
}

SECRET=v1/secret/data/bench
declare -A PORT PID
PORT[direct]=$VAULT_PORT
start_gatehouse gatehouse "$OUT/gatehouse" "$PROXY_PORT" "${API_PROXY_EXTRA:-}"
PORT[gatehouse]=$PROXY_PORT
PID[gatehouse]=$GH_PID
CASES=(direct gatehouse)
if [[ -n "${COMPARE_REF:-}" ]]; then
  start_gatehouse ref "$OUT/gatehouse-ref" "$REF_PORT" ""
  PORT[ref]=$REF_PORT
  PID[ref]=$GH_PID
  CASES=(direct ref gatehouse)
fi

for name in "${CASES[@]}"; do
  wrk -t1 -c4 -d1s -H "X-Vault-Token: root" "http://127.0.0.1:${PORT[$name]}/$SECRET" >/dev/null
done

# The most established connections to DevVault's port held by process $2, sampled while $1 (wrk) runs.
watch_upstream() {
  local most=0 now
  while kill -0 "$1" 2>/dev/null; do
    now=$(ss -Htnp state established "( dport = :$VAULT_PORT )" 2>/dev/null | grep -c "pid=$2," || true)
    (( now > most )) && most=$now
    sleep 0.5
  done
  echo "$most"
}

run() { # name
  local out wrk_pid most
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s --latency -H "X-Vault-Token: root" \
    "http://127.0.0.1:${PORT[$1]}/$SECRET" > "$OUT/wrk-$1.txt" 2>&1 &
  wrk_pid=$!
  most=$(watch_upstream "$wrk_pid" "${PID[$1]:-$wrk_pid}")
  wait "$wrk_pid"
  out=$(cat "$OUT/wrk-$1.txt")
  awk -v name="$1" -v most="$most" -v out="$out" 'BEGIN {
    n = split(out, lines, "\n"); non2xx = 0; errors = "none"
    for (i = 1; i <= n; i++) {
      split(lines[i], f, " ")
      if (f[1] == "Latency" && f[2] ~ /[0-9]/) max = f[4]
      if (f[1] == "50%") p50 = f[2]
      if (f[1] == "90%") p90 = f[2]
      if (f[1] == "99%") p99 = f[2]
      if (lines[i] ~ /^Requests\/sec:/) rps = f[2]
      if (lines[i] ~ /Non-2xx/) non2xx = f[5]
      if (lines[i] ~ /Socket errors/) { errors = lines[i]; sub(/^ *Socket errors: */, "", errors) }
    }
    printf "%-10s | %8s %8s %8s %8s | %8.0f | %7d | %5d | %s\n", name, p50, p90, p99, max, rps, non2xx, most, errors
  }'
}

printf '%s UTC, %ss per run, %s connections, wrk -t2 --timeout 30s, %s cores, load average before: %s\n' \
  "$(date -u '+%Y-%m-%d %H:%M')" "$DURATION" "$CONNECTIONS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n "${DEVVAULT_BACKLOG:-}" ]] && printf 'DevVault listen backlog: %s\n' "$DEVVAULT_BACKLOG"
printf 'gatehouse: this tree (%s)%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "${API_PROXY_EXTRA:+, api_proxy { $API_PROXY_EXTRA \}}"
[[ -n "${COMPARE_REF:-}" ]] && printf 'ref: %s (%s)\n' "$COMPARE_REF" "$(git -C "$ROOT" rev-parse --short "$COMPARE_REF")"
printf '%-10s | %8s %8s %8s %8s | %8s | %7s | %5s | %s\n' case p50 p90 p99 max "req/s" "non-2xx" "conns" "socket errors"
for round in $(seq 1 "$ROUNDS"); do
  order=("${CASES[@]}")
  if (( round % 2 == 0 )); then order=(); for (( i = ${#CASES[@]} - 1; i >= 0; i-- )); do order+=("${CASES[$i]}"); done; fi
  for name in "${order[@]}"; do run "$name"; done
done
printf 'conns: the most connections that case'"'"'s process held open to DevVault during its run (wrk'"'"'s for direct)\n'
for name in "${CASES[@]}"; do
  [[ $name == direct ]] && continue
  printf '%s warnings logged: %s lines\n' "$name" "$(grep -c '\[WARN\]' "$OUT/gatehouse-$name.log" || true)"
done
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
