#!/usr/bin/env bash
# Loopback load on this machine: direct-to-DevVault vs through Gatehouse (Release), each case at c=1 and c=32, a few
# seconds per run. Cases: sys/health and GET secret (KV v2) pass-through; GET secret through a Gatehouse with
# `cache {}` (pass-through plus cacheability inspection); GET secret served as a static-secret HIT (approle auto-auth,
# `cache_static_secrets = true`); an approle login passed through, and the same login served as a lease-cache HIT.
# Prints one table: req/s, p50, p99, Gatehouse CPU µs per request (from /proc/<pid>/stat before and
# after the run), DevVault CPU µs per direct request, and proxied ÷ direct ratios; then the summary ratios and
# Gatehouse RSS idle/peak (VmRSS / VmHWM). Usage: bench/load/cases.sh [seconds-per-run, default 3]
# (Until issue 15 this was bench/load/run.sh; run.sh now measures the configuration users run, with a bare
# pass-through as its floor, against nginx.)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-3}
OUT=$(mktemp -d /tmp/gatehouse-load.XXXXXX)
VAULT_PORT=${VAULT_PORT:-18201}
PROXY_PORT=${PROXY_PORT:-18202}
CACHE_PORT=${CACHE_PORT:-18203}
STATIC_PORT=${STATIC_PORT:-18204}
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

source "$ROOT/bench/lib.sh"
start_devvault
DV=$DV_PID

start_gatehouse() { # port extra-hcl -> pid (via GH_PID)
  cat > "$OUT/proxy-$1.hcl" <<HCL
vault {
  address = "http://127.0.0.1:$VAULT_PORT"
}
api_proxy {
  use_auto_auth_token = false
}
listener "tcp" {
  address     = "127.0.0.1:$1"
  tls_disable = true
}
$2
HCL
  "$OUT/gatehouse/gatehouse" proxy -config "$OUT/proxy-$1.hcl" > "$OUT/gatehouse-$1.log" 2>&1 &
  GH_PID=$!
  PIDS+=($GH_PID)
  wait_http "http://127.0.0.1:$1/v1/sys/health"
}
start_gatehouse "$PROXY_PORT" ""
GH=$GH_PID
start_gatehouse "$CACHE_PORT" "cache {}"
GHC=$GH_PID
start_gatehouse "$STATIC_PORT" "auto_auth {
  method \"approle\" {
    config = {
      role_id_file_path   = \"$OUT/work/role_id\"
      secret_id_file_path = \"$OUT/work/secret_id\"
      remove_secret_id_file_after_reading = false
    }
  }
}
cache {
  cache_static_secrets = true
}"
GHS=$GH_PID

CLK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }
IDLE_RSS=$(rss_kb "$GH" VmRSS)
IDLE_RSS_CACHE=$(rss_kb "$GHC" VmRSS)

# The approle login the cache serves: same body every time, so after the first (MISS) every request is a HIT.
LOGIN_BODY=$(printf '{"role_id":"%s","secret_id":"%s"}' "$(cat "$OUT/work/role_id")" "$(cat "$OUT/work/secret_id")")
cat > "$OUT/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '$LOGIN_BODY'
wrk.headers["Content-Type"] = "application/json"
LUA

# wrk's latency figures come as 123.45us / 1.23ms / 1.00s; convert to µs.
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000000} else print v}'; }

run_wrk() { # pid url conns [lua] -> "rps p50us p99us requests cpu_us_per_request"
  local threads=$(( $3 < 2 ? 1 : 2 )) script=() out before after
  [[ -n "${4:-}" ]] && script=(-s "$4")
  before=$(cpu_ticks "$1")
  out=$(wrk -t"$threads" -c"$3" -d"${DURATION}s" --latency -H "X-Vault-Token: root" "${script[@]}" "$2")
  after=$(cpu_ticks "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $2:" >&2; echo "$out" >&2; exit 1; fi
  awk -v out="$out" -v ticks="$((after - before))" -v clk="$CLK" 'BEGIN {
    n = split(out, lines, "\n")
    for (i = 1; i <= n; i++) {
      split(lines[i], f, " ")
      if (lines[i] ~ /^Requests\/sec:/) rps = f[2]
      if (f[1] == "50%") p50 = f[2]
      if (f[1] == "99%") p99 = f[2]
      if (lines[i] ~ /requests in/) reqs = f[1]
    }
    printf "%s %s %s %s %.1f\n", rps, p50, p99, reqs, ticks * 1000000 / clk / reqs
  }' | { read -r rps p50 p99 reqs cpu; echo "$rps $(to_us <<<"$p50") $(to_us <<<"$p99") $reqs $cpu"; }
}

SECRET=v1/secret/data/bench
LOGIN=v1/auth/approle/login

# Warm every path (JIT, pools) and make the first, cached login (a MISS) before measuring.
for port in "$PROXY_PORT" "$CACHE_PORT" "$STATIC_PORT" "$VAULT_PORT"; do
  wrk -t1 -c4 -d1s -H "X-Vault-Token: root" "http://127.0.0.1:$port/$SECRET" >/dev/null
  wrk -t1 -c4 -d1s -H "X-Vault-Token: root" -s "$OUT/login.lua" "http://127.0.0.1:$port/$LOGIN" >/dev/null
done
curl -s -D - -o /dev/null -H "X-Vault-Token: root" -X POST -d "$LOGIN_BODY" "http://127.0.0.1:$CACHE_PORT/$LOGIN" | grep -qi '^X-Cache: HIT' \
  || { echo "the approle login is not served from the cache" >&2; exit 1; }
curl -s -D - -o /dev/null -H "X-Vault-Token: root" "http://127.0.0.1:$STATIC_PORT/$SECRET" | grep -qi '^X-Cache: HIT' \
  || { echo "GET secret is not served from the static-secret cache" >&2; exit 1; }

printf '%s UTC, %ss per run, %s cores, load average before: %s\n' "$(date -u '+%Y-%m-%d %H:%M')" "$DURATION" "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %3s | %9s %7s %7s %7s | %9s %7s %7s %7s | %5s %6s\n' \
  case c "direct/s" "p50 µs" "p99 µs" "DV µs" "gh r/s" "p50 µs" "p99 µs" "GH µs" "r/s÷" "+p50µs"
row() { # name c direct(rps p50 p99 reqs cpu) proxied(rps p50 p99 reqs cpu)
  awk -v name="$1" -v c="$2" -v d="$3" -v p="$4" 'BEGIN {
    split(d, a, " "); split(p, b, " ")
    printf "%-24s %3d | %9.0f %7.0f %7.0f %7.1f | %9.0f %7.0f %7.0f %7.1f | %5.2f %6.0f\n", \
      name, c, a[1], a[2], a[3], a[5], b[1], b[2], b[3], b[5], b[1] / a[1], b[2] - a[2]
  }'
}
declare -A R
for c in 1 32; do
  R[dh$c]=$(run_wrk "$DV" "http://127.0.0.1:$VAULT_PORT/v1/sys/health" "$c")
  R[ph$c]=$(run_wrk "$GH" "http://127.0.0.1:$PROXY_PORT/v1/sys/health" "$c")
  row "sys/health" "$c" "${R[dh$c]}" "${R[ph$c]}"
done
for c in 1 32; do
  R[ds$c]=$(run_wrk "$DV" "http://127.0.0.1:$VAULT_PORT/$SECRET" "$c")
  R[ps$c]=$(run_wrk "$GH" "http://127.0.0.1:$PROXY_PORT/$SECRET" "$c")
  row "GET secret" "$c" "${R[ds$c]}" "${R[ps$c]}"
done
for c in 1 32; do
  R[cs$c]=$(run_wrk "$GHC" "http://127.0.0.1:$CACHE_PORT/$SECRET" "$c")
  row "GET secret, cache on" "$c" "${R[ds$c]}" "${R[cs$c]}"
done
for c in 1 32; do
  R[ss$c]=$(run_wrk "$GHS" "http://127.0.0.1:$STATIC_PORT/$SECRET" "$c")
  row "GET secret, static HIT" "$c" "${R[ds$c]}" "${R[ss$c]}"
done
for c in 1 32; do
  R[dl$c]=$(run_wrk "$DV" "http://127.0.0.1:$VAULT_PORT/$LOGIN" "$c" "$OUT/login.lua")
  R[pl$c]=$(run_wrk "$GH" "http://127.0.0.1:$PROXY_PORT/$LOGIN" "$c" "$OUT/login.lua")
  row "approle login, no cache" "$c" "${R[dl$c]}" "${R[pl$c]}"
done
for c in 1 32; do
  R[hl$c]=$(run_wrk "$GHC" "http://127.0.0.1:$CACHE_PORT/$LOGIN" "$c" "$OUT/login.lua")
  row "approle login, HIT" "$c" "${R[dl$c]}" "${R[hl$c]}"
done

first() { cut -d' ' -f1 <<<"$1"; }
awk -v hit="$(first "${R[hl32]}")" -v login="$(first "${R[pl32]}")" -v secret="$(first "${R[ps32]}")" \
    -v health="$(first "${R[ph32]}")" -v dsecret="$(first "${R[ds32]}")" 'BEGIN {
  printf "c=32: cache-hit r/s ÷ pass-through r/s: %.2f× (same login, no cache), %.2f× (GET secret), %.2f× (sys/health)\n", \
    hit / login, hit / secret, hit / health
  printf "c=32: DevVault direct GET secret r/s ÷ Gatehouse pass-through GET secret r/s: %.2f×\n", dsecret / secret
}'
cpu() { cut -d' ' -f5 <<<"$1"; }
awk -v s1="$(cpu "${R[ss1]}")" -v s32="$(cpu "${R[ss32]}")" -v l1="$(cpu "${R[hl1]}")" -v l32="$(cpu "${R[hl32]}")" \
    -v srps="$(first "${R[ss32]}")" -v lrps="$(first "${R[hl32]}")" 'BEGIN {
  printf "static HIT vs lease HIT, Gatehouse CPU µs per hit: c=1 %.1f vs %.1f, c=32 %.1f vs %.1f; c=32 r/s %.0f vs %.0f\n", \
    s1, l1, s32, l32, srps, lrps
}'
printf 'Gatehouse RSS: idle %d MiB, peak %d MiB (no cache); idle %d MiB, peak %d MiB (cache {})\n' \
  "$((IDLE_RSS / 1024))" "$(( $(rss_kb "$GH" VmHWM) / 1024 ))" "$((IDLE_RSS_CACHE / 1024))" "$(( $(rss_kb "$GHC" VmHWM) / 1024 ))"

# ── issue 17: shared cache (Redis) — a hit served by a replica that did not fetch it ───────────────────────────────
# Two Gatehouse processes with `cache { shared "redis" }` on one redis-server (Debian's package; no persistence): the
# login is fetched through A (a MISS, written to Redis sealed), then asked of B, which takes it from Redis once and
# serves it as a local hit after that. Printed beside A's own local hit: CPU µs per hit of each process. The same for a
# static KV secret (`cache_static_secrets`): read through A, then served by B with the grant A wrote for the token.
shared_cache_case() {
  local redis_port=${SHARED_REDIS_PORT:-18206} a_port=${SHARED_A_PORT:-18207} b_port=${SHARED_B_PORT:-18208}
  if ! command -v redis-server >/dev/null; then
    echo "installing redis-server (Debian package)" >&2
    (apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)) >/dev/null
  fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$OUT" --daemonize no \
    > "$OUT/redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do grep -q "Ready to accept connections" "$OUT/redis.log" && break; sleep 0.1; done
  head -c 32 /dev/urandom | base64 > "$OUT/shared.key"
  local shared="cache {
  cache_static_secrets = true
  shared \"redis\" {
    address  = \"127.0.0.1:$redis_port\"
    key_file = \"$OUT/shared.key\"
  }
}"
  start_gatehouse "$a_port" "$shared"; local gha=$GH_PID
  start_gatehouse "$b_port" "$shared"; local ghb=$GH_PID
  curl -s -D - -o /dev/null -H "X-Vault-Token: root" -X POST -d "$LOGIN_BODY" "http://127.0.0.1:$a_port/$LOGIN" | grep -qi '^X-Cache: MISS' \
    || { echo "the first login through A is not a MISS" >&2; exit 1; }
  local first
  for _ in $(seq 1 50); do
    first=$(curl -s -D - -o /dev/null -H "X-Vault-Token: root" -X POST -d "$LOGIN_BODY" "http://127.0.0.1:$b_port/$LOGIN")
    grep -qi '^X-Cache: HIT' <<<"$first" && break
    sleep 0.1
  done
  grep -qi '^X-Cache: HIT' <<<"$first" || { echo "B does not serve A's login from the shared cache" >&2; exit 1; }
  printf '%-24s %3s | %9s %7s %7s %7s | %9s %7s %7s %7s\n' case c "A r/s" "p50 µs" "p99 µs" "A µs" "B r/s" "p50 µs" "p99 µs" "B µs"
  local c a b
  for c in 1 32; do
    a=$(run_wrk "$gha" "http://127.0.0.1:$a_port/$LOGIN" "$c" "$OUT/login.lua")
    b=$(run_wrk "$ghb" "http://127.0.0.1:$b_port/$LOGIN" "$c" "$OUT/login.lua")
    awk -v c="$c" -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
      printf "%-24s %3d | %9.0f %7.0f %7.0f %7.1f | %9.0f %7.0f %7.0f %7.1f\n", "login HIT: A local, B shared", c, x[1], x[2], x[3], x[5], y[1], y[2], y[3], y[5] }'
  done
  # A static secret read through A (a MISS: A reads it from Vault and writes it and the token's grant to Redis), then
  # served by B, which never read it from Vault: B takes secret and grant from Redis once, then hits locally.
  curl -s -D - -o /dev/null -H "X-Vault-Token: root" "http://127.0.0.1:$a_port/$SECRET" | grep -qi '^X-Cache: MISS' \
    || { echo "the first GET secret through A is not a MISS" >&2; exit 1; }
  for _ in $(seq 1 50); do
    first=$(curl -s -D - -o /dev/null -H "X-Vault-Token: root" "http://127.0.0.1:$b_port/$SECRET")
    grep -qi '^X-Cache: HIT' <<<"$first" && break
    sleep 0.1
  done
  grep -qi '^X-Cache: HIT' <<<"$first" || { echo "B does not serve A's static secret from the shared cache" >&2; exit 1; }
  for c in 1 32; do
    a=$(run_wrk "$gha" "http://127.0.0.1:$a_port/$SECRET" "$c")
    b=$(run_wrk "$ghb" "http://127.0.0.1:$b_port/$SECRET" "$c")
    awk -v c="$c" -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
      printf "%-24s %3d | %9.0f %7.0f %7.0f %7.1f | %9.0f %7.0f %7.0f %7.1f\n", "static HIT: A local, B shared", c, x[1], x[2], x[3], x[5], y[1], y[2], y[3], y[5] }'
  done
}
shared_cache_case
# ── end of issue 17 case ───────────────────────────────────────────────────────────────────────────────────────────

printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
