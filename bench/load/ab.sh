#!/usr/bin/env bash
# Same-run A/B of runtime settings on the realistic configuration (bench/load/run.sh's: approle auto-auth, a file sink,
# use_auto_auth_token = true, cache {}, one tcp listener). One Gatehouse per variant, all running at once against one
# DevVault; each round drives sys/health at c=1 and c=32, the token-create cache HIT at c=1 and c=32, and sys/health
# paced at 200 r/s on one connection (bench/load/paced.py; its p50 includes Python's client time) at every variant, in
# an order that rotates from round to round. Prints, per variant, the median over the rounds of Gatehouse
# CPU µs per request and p50 µs, and the c=1 ÷ c=32 CPU ratio, with the load average. A busy machine shifts absolute
# figures; compare variants within one run.
# Usage: bench/load/ab.sh [--rounds N (3)] [--seconds S (3)] [--bin PATH] VARIANT...
#   VARIANT is "name:VAR=value,VAR=value" (environment of that Gatehouse), or "name:" for the defaults; BIN=PATH among
#   them runs that variant from another executable (e.g. the Native AOT binary against a JIT build), e.g.
#   bench/load/ab.sh default: nospin:DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 wks:DOTNET_gcServer=0
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=3
DURATION=3
BIN=""
VARIANTS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) DURATION=$2; shift 2 ;;
    --bin) BIN=$(realpath "$2"); shift 2 ;;
    *:*) VARIANTS+=("$1"); shift ;;
    *) echo "usage: bench/load/ab.sh [--rounds N] [--seconds S] [--bin PATH] name:VAR=value,... ..." >&2; exit 2 ;;
  esac
done
[[ ${#VARIANTS[@]} -ge 1 ]] || { echo "name at least one variant (name: for the defaults)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/gatehouse-ab.XXXXXX)
VAULT_PORT=${VAULT_PORT:-18221}
FIRST_PORT=${FIRST_PORT:-18222}
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

"$ROOT/scripts/install-bench-deps.sh"
if [[ -z "$BIN" ]]; then
  echo "building Release..." >&2
  dotnet build -c Release "$ROOT/src/Gatehouse" -o "$OUT/gatehouse" >/dev/null
  BIN="$OUT/gatehouse/gatehouse"
fi
dotnet build -c Release "$ROOT/bench/load/Gatehouse.Load" -o "$OUT/load" >/dev/null
source "$ROOT/bench/lib.sh"
start_devvault

CLK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000000} else print v}'; }
run_wrk() { # pid url conns [lua] -> "p50us cpu_us_per_request"
  local threads=$(( $3 < 2 ? 1 : 2 )) script=() out before after
  [[ -n "${4:-}" ]] && script=(-s "$4")
  before=$(cpu_ticks "$1")
  out=$(wrk -t"$threads" -c"$3" -d"${DURATION}s" --latency "${script[@]}" "$2")
  after=$(cpu_ticks "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $2:" >&2; echo "$out" >&2; exit 1; fi
  awk -v out="$out" -v ticks="$((after - before))" -v clk="$CLK" 'BEGIN {
    n = split(out, lines, "\n")
    for (i = 1; i <= n; i++) { split(lines[i], f, " "); if (f[1] == "50%") p50 = f[2]; if (lines[i] ~ /requests in/) reqs = f[1] }
    printf "%s %.1f\n", p50, ticks * 1000000 / clk / reqs
  }' | { read -r p50 cpu; echo "$(to_us <<<"$p50") $cpu"; }
}
cat > "$OUT/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"ttl":"1h","display_name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
LUA

NAMES=(); PORTS=(); GPIDS=()
i=0
for v in "${VARIANTS[@]}"; do
  name=${v%%:*}; envs=${v#*:}; port=$((FIRST_PORT + i))
  mkdir -p "$OUT/$name/sink"
  cat > "$OUT/$name/proxy.hcl" <<HCL
vault {
  address = "http://127.0.0.1:$VAULT_PORT"
}
auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "$OUT/work/role_id"
      secret_id_file_path = "$OUT/work/secret_id"
      remove_secret_id_file_after_reading = false
    }
  }
  sink "file" {
    config = {
      path = "$OUT/$name/sink/token"
    }
  }
}
api_proxy {
  use_auto_auth_token = true
}
cache {}
listener "tcp" {
  address     = "127.0.0.1:$port"
  tls_disable = true
}
HCL
  vbin=$BIN; venv=()
  for kv in ${envs//,/ }; do if [[ $kv == BIN=* ]]; then vbin=$(realpath "${kv#BIN=}"); else venv+=("$kv"); fi; done
  env ${venv[@]+"${venv[@]}"} "$vbin" proxy -config="$OUT/$name/proxy.hcl" > "$OUT/$name/log" 2>&1 &
  GPIDS+=($!); PIDS+=($!); NAMES+=("$name"); PORTS+=("$port")
  i=$((i + 1))
done
for port in "${PORTS[@]}"; do
  wait_http "http://127.0.0.1:$port/v1/sys/health"
  wrk -t1 -c4 -d1s "http://127.0.0.1:$port/v1/sys/health" >/dev/null
  wrk -t1 -c4 -d1s -s "$OUT/create.lua" "http://127.0.0.1:$port/v1/auth/token/create" >/dev/null
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R   # round:variant:case -> "p50 cpu"
n=${#NAMES[@]}
for round in $(seq 1 "$ROUNDS"); do
  for c in 1 32; do
    for ((k = 0; k < n; k++)); do
      j=$(( (k + round) % n ))
      R[$round:$j:h$c]=$(run_wrk "${GPIDS[$j]}" "http://127.0.0.1:${PORTS[$j]}/v1/sys/health" "$c")
      R[$round:$j:t$c]=$(run_wrk "${GPIDS[$j]}" "http://127.0.0.1:${PORTS[$j]}/v1/auth/token/create" "$c" "$OUT/create.lua")
    done
  done
  for ((k = 0; k < n; k++)); do
    j=$(( (k + round) % n ))
    before=$(cpu_ticks "${GPIDS[$j]}")
    lat=$(python3 "$ROOT/bench/load/paced.py" "${PORTS[$j]}" /v1/sys/health 1000 0.005)
    after=$(cpu_ticks "${GPIDS[$j]}")
    R[$round:$j:p]="$(cut -d' ' -f1 <<<"$lat") $(awk -v t="$((after - before))" -v clk="$CLK" 'BEGIN {printf "%.1f", t * 1000000 / clk / 1000}')"
  done
  echo "round $round done, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done

[[ -n "${AB_DEBUG:-}" ]] && for key in "${!R[@]}"; do echo "$key ${R[$key]}"; done >&2
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
med() { local vals=() r; for r in $(seq 1 "$ROUNDS"); do vals+=("$(cut -d' ' -f"$3" <<<"${R[$r:$1:$2]}")"); done; median "${vals[@]}"; }
printf '\n%s UTC, %s round(s) of %ss per case, %s cores, load average before: %s, after: %s\n' \
  "$(date -u '+%Y-%m-%d %H:%M')" "$ROUNDS" "$DURATION" "$(nproc)" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'Gatehouse CPU µs per request (p50 µs), median over rounds\n'
printf '%-12s | %15s %15s %8s | %15s %15s %8s | %15s | %s\n' variant "health c=1" "health c=32" "c1÷c32" "HIT c=1" "HIT c=32" "c1÷c32" "paced 200/s" environment
for ((j = 0; j < n; j++)); do
  printf '%-12s | %7.1f (%5.0f) %7.1f (%5.0f) %8.2f | %7.1f (%5.0f) %7.1f (%5.0f) %8.2f | %7.1f (%5.0f) | %s\n' "${NAMES[$j]}" \
    "$(med $j h1 2)" "$(med $j h1 1)" "$(med $j h32 2)" "$(med $j h32 1)" "$(awk -v a="$(med $j h1 2)" -v b="$(med $j h32 2)" 'BEGIN {print a / b}')" \
    "$(med $j t1 2)" "$(med $j t1 1)" "$(med $j t32 2)" "$(med $j t32 1)" "$(awk -v a="$(med $j t1 2)" -v b="$(med $j t32 2)" 'BEGIN {print a / b}')" \
    "$(med $j p 2)" "$(med $j p 1)" "${VARIANTS[$j]#*:}"
done
