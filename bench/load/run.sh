#!/usr/bin/env bash
# Loopback load: direct-to-DevVault vs through Gatehouse, GET secret and sys/health, c=1 and c=32.
# Prints req/s, p50, p99 per case, Gatehouse CPU µs per proxied request (from /proc/<pid>/stat), Gatehouse RSS idle
# and peak (VmRSS / VmHWM), and the proxied ÷ direct ratios. Usage: bench/load/run.sh [seconds-per-case, default 3]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-3}
OUT=$(mktemp -d /tmp/gatehouse-load.XXXXXX)
VAULT_PORT=${VAULT_PORT:-18201}
PROXY_PORT=${PROXY_PORT:-18202}
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
fi

echo "building Release..." >&2
dotnet build -c Release "$ROOT/src/Gatehouse" -o "$OUT/gatehouse" >/dev/null
dotnet build -c Release "$ROOT/bench/load/Gatehouse.Load" -o "$OUT/load" >/dev/null

wait_http() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "not ready: $1" >&2; exit 1; }

"$OUT/load/gatehouse-load" devvault "$VAULT_PORT" > "$OUT/devvault.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$VAULT_PORT/v1/sys/health"

cat > "$OUT/proxy.hcl" <<HCL
vault {
  address = "http://127.0.0.1:$VAULT_PORT"
}
api_proxy {
  use_auto_auth_token = false
}
listener "tcp" {
  address     = "127.0.0.1:$PROXY_PORT"
  tls_disable = true
}
HCL
"$OUT/gatehouse/gatehouse" proxy -config "$OUT/proxy.hcl" > "$OUT/gatehouse.log" 2>&1 &
GH=$!
PIDS+=($GH)
wait_http "http://127.0.0.1:$PROXY_PORT/v1/sys/health"

CLK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14+$15}' "/proc/$GH/stat"; }
rss_kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$GH/status"; }
IDLE_RSS=$(rss_kb VmRSS)

# wrk's latency figures come as 123.45us / 1.23ms / 1.00s; convert to µs.
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000000} else print v}'; }

run_wrk() { # url conns -> "rps p50us p99us requests"
  local threads=$(( $2 < 2 ? 1 : 2 ))
  local out
  out=$(wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency -H "X-Vault-Token: root" "$1")
  local rps p50 p99 reqs
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_us)
  p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_us)
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$rps $p50 $p99 $reqs"
}

# Warm both paths (JIT, pools) before measuring.
wrk -t1 -c4 -d1s -H "X-Vault-Token: root" "http://127.0.0.1:$PROXY_PORT/v1/secret/data/bench" >/dev/null
wrk -t1 -c4 -d1s -H "X-Vault-Token: root" "http://127.0.0.1:$VAULT_PORT/v1/secret/data/bench" >/dev/null

printf '%s, %ss per case, %s cores\n' "$(date -u +%Y-%m-%d)" "$DURATION" "$(nproc)"
printf '%-12s %4s | %10s %9s %9s | %10s %9s %9s %8s | %6s %6s %6s\n' \
  case c "direct r/s" "p50 µs" "p99 µs" "proxy r/s" "p50 µs" "p99 µs" "CPU µs" "r/s÷" "p50÷" "+p50µs"
for path in sys/health secret/data/bench; do
  for c in 1 32; do
    read -r drps dp50 dp99 _ < <(run_wrk "http://127.0.0.1:$VAULT_PORT/v1/$path" "$c")
    before=$(cpu_ticks)
    read -r prps pp50 pp99 preqs < <(run_wrk "http://127.0.0.1:$PROXY_PORT/v1/$path" "$c")
    after=$(cpu_ticks)
    awk -v path="$path" -v c="$c" -v drps="$drps" -v dp50="$dp50" -v dp99="$dp99" -v prps="$prps" -v pp50="$pp50" \
        -v pp99="$pp99" -v reqs="$preqs" -v ticks="$((after - before))" -v clk="$CLK" 'BEGIN {
      cpu = ticks * 1000000 / clk / reqs
      printf "%-12s %4d | %10.0f %9.0f %9.0f | %10.0f %9.0f %9.0f %8.1f | %6.2f %6.2f %6.0f\n", \
        (path == "sys/health" ? "sys/health" : "GET secret"), c, drps, dp50, dp99, prps, pp50, pp99, cpu, prps / drps, pp50 / dp50, pp50 - dp50
    }'
  done
done
printf 'Gatehouse RSS: idle %d MiB, peak %d MiB\n' "$((IDLE_RSS / 1024))" "$(( $(rss_kb VmHWM) / 1024 ))"
