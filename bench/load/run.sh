#!/usr/bin/env bash
# The configuration users run, measured on this machine (issue 15). Gatehouse with approle auto-auth, a file sink,
# `use_auto_auth_token = true`, `cache {}` and one tcp listener, in front of DevVault (bench/load's host, its own
# process), driven by wrk over loopback; beside it a bare Gatehouse (no auto-auth, no cache: the "floor") and nginx
# serving a static JSON file exactly as long as the cache-hit answer (the ceiling of this machine's HTTP stack).
#
# Each run starts a fresh realistic Gatehouse and measures:
#   - exec → listener accepting and token in the sink file (ms);
#   - sys/health pass-through at c=1 and c=32: r/s, p50/p99, CPU µs per request of each process (from
#     /proc/<pid>/stat before and after), for the floor, the realistic Gatehouse and DevVault directly;
#   - sys/health at a sidecar's steady trickle, 200 r/s on one connection (bench/load/paced.py; p50/p99 there include
#     Python's own client time), CPU µs per request of the floor and the realistic Gatehouse;
#   - the cache hit (POST auth/token/create with the auto-auth token; the first is the MISS) at c=1 and c=32,
#     nginx serving the same number of bytes at c=1 and c=32 (a GET: nginx's static module refuses POST), and a bare
#     Kestrel answering the same POST with those bytes from memory (the .NET floor: bench/load's host, `static`);
#   - RSS of the realistic Gatehouse: idle (VmRSS before load), peak (VmHWM after the load) and after --after seconds
#     of quiet (default 60).
# The order of floor and realistic alternates between runs. Prints the median over the runs of each figure, the
# ratios (proxied ÷ direct, realistic ÷ floor, c=1 ÷ c=32 CPU, hit ÷ nginx) and the load average before and after.
#
# Usage: bench/load/run.sh [--runs N (3)] [--seconds S per wrk run (3)] [--after S (60)] [--starts N (6)] [--bin PATH]
#   --starts N   extra start-ups timed before the runs (each stopped at once); the start figure is the median of these
#                and the runs' own starts.
#   --bin PATH   measure this gatehouse executable (a published single-file or AOT build) instead of a Release build
#                of src/Gatehouse (`dotnet build -c Release`, framework-dependent).
#   GH_ENV="DOTNET_X=1 ..." is put in the environment of both Gatehouse processes (A/B of runtime knobs).
# Needs wrk and nginx (scripts/install-bench-deps.sh installs them from Debian). The older per-case table (KV reads,
# static-secret hits, approle logins) is bench/load/cases.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=3
DURATION=3
AFTER=60
BIN=""
START_SAMPLES=6
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --seconds) DURATION=$2; shift 2 ;;
    --after) AFTER=$2; shift 2 ;;
    --bin) BIN=$(realpath "$2"); shift 2 ;;
    --starts) START_SAMPLES=$2; shift 2 ;;
    *) echo "usage: bench/load/run.sh [--runs N] [--seconds S] [--after S] [--starts N] [--bin PATH]" >&2; exit 2 ;;
  esac
done
OUT=$(mktemp -d /tmp/gatehouse-load.XXXXXX)
VAULT_PORT=${VAULT_PORT:-18201}
FLOOR_PORT=${FLOOR_PORT:-18202}
REAL_PORT=${REAL_PORT:-18203}
NGINX_PORT=${NGINX_PORT:-18205}
KESTREL_PORT=${KESTREL_PORT:-18206}
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f "$OUT/nginx.pid" ]] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
  sleep 0.2; rm -rf "$OUT"
}
trap cleanup EXIT

"$ROOT/scripts/install-bench-deps.sh"

echo "building Release..." >&2
if [[ -z "$BIN" ]]; then
  dotnet build -c Release "$ROOT/src/Gatehouse" -o "$OUT/gatehouse" >/dev/null
  BIN="$OUT/gatehouse/gatehouse"
fi
dotnet build -c Release "$ROOT/bench/load/Gatehouse.Load" -o "$OUT/load" >/dev/null

source "$ROOT/bench/lib.sh"
start_devvault
DV=$DV_PID

CLK=$(getconf CLK_TCK)
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
rss_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }


# The floor: a bare pass-through, started once.
cat > "$OUT/floor.hcl" <<HCL
vault {
  address = "http://127.0.0.1:$VAULT_PORT"
}
api_proxy {
  use_auto_auth_token = false
}
listener "tcp" {
  address     = "127.0.0.1:$FLOOR_PORT"
  tls_disable = true
}
HCL
env ${GH_ENV:-} "$BIN" proxy -config="$OUT/floor.hcl" > "$OUT/floor.log" 2>&1 &
FLOOR=$!
PIDS+=($FLOOR)
wait_http "http://127.0.0.1:$FLOOR_PORT/v1/sys/health"

# What users run (Vault Agent 1.8's issue-15 comparison used the same shape).
cat > "$OUT/real.hcl" <<HCL
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
      path = "$OUT/sink/token"
    }
  }
}
api_proxy {
  use_auto_auth_token = true
}
cache {}
listener "tcp" {
  address     = "127.0.0.1:$REAL_PORT"
  tls_disable = true
}
HCL

# Starts the realistic Gatehouse; REAL gets its pid, START_MS the time from exec until the listener accepts and the
# sink holds a token. The poll uses bash builtins only and waits 1 ms between looks (a read with a timeout on a FIFO
# nobody writes), so it neither forks nor spins: a busy-polling shell would take one of the two cores from the process
# it is timing.
mkfifo "$OUT/tick"
exec 9<>"$OUT/tick"
start_real() {
  rm -rf "$OUT/sink"; mkdir -p "$OUT/sink"
  local start now up=0
  start=${EPOCHREALTIME/./}
  env ${GH_ENV:-} "$BIN" proxy -config="$OUT/real.hcl" > "$OUT/real.log" 2>&1 &
  REAL=$!
  PIDS+=($REAL)
  while :; do
    if [[ $up == 0 ]] && (exec 3<>"/dev/tcp/127.0.0.1/$REAL_PORT") 2>/dev/null; then up=1; fi
    now=${EPOCHREALTIME/./}
    if [[ $up == 1 && -s "$OUT/sink/token" ]]; then break; fi
    if (( now - start > 20000000 )); then echo "realistic Gatehouse not ready in 20 s; log:" >&2; cat "$OUT/real.log" >&2; exit 1; fi
    read -rt 0.001 -u 9 || true
  done
  START_MS=$(( (now - start) / 1000 ))
}

# DevVault is a JIT-compiled .NET process: its first approle logins compile the login path, which would be counted
# in the first Gatehouse start (a real Vault has nothing to warm). Log in a few times first.
for _ in 1 2 3 4 5; do
  curl -fsS -o /dev/null -X POST -H "Content-Type: application/json" \
    -d "{\"role_id\":\"$(cat "$OUT/work/role_id")\",\"secret_id\":\"$(cat "$OUT/work/secret_id")\"}" \
    "http://127.0.0.1:$VAULT_PORT/v1/auth/approle/login"
done

# wrk's latency figures come as 123.45us / 1.23ms / 1.00s; convert to µs.
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000000} else print v}'; }

run_wrk() { # "pids" url conns [lua] -> "rps p50us p99us requests cpu_us_per_request"
  local threads=$(( $3 < 2 ? 1 : 2 )) script=() out before after
  [[ -n "${4:-}" ]] && script=(-s "$4")
  # shellcheck disable=SC2086
  before=$(cpu_ticks $1)
  out=$(wrk -t"$threads" -c"$3" -d"${DURATION}s" --latency "${script[@]}" "$2")
  # shellcheck disable=SC2086
  after=$(cpu_ticks $1)
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

# pid port -> "rps p50us p99us requests cpu_us_per_request" for PACED requests of sys/health at 200 r/s (bench/load/paced.py)
PACED=${PACED:-1000}
run_paced() {
  local before after lat
  before=$(cpu_ticks "$1")
  lat=$(python3 "$ROOT/bench/load/paced.py" "$2" "/$HEALTH" "$PACED" 0.005)
  after=$(cpu_ticks "$1")
  awk -v lat="$lat" -v ticks="$((after - before))" -v clk="$CLK" -v n="$PACED" 'BEGIN {
    split(lat, l, " "); printf "200 %s %s %d %.1f\n", l[1], l[2], n, ticks * 1000000 / clk / n }'
}

HEALTH=v1/sys/health
CREATE=v1/auth/token/create
cat > "$OUT/create.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"ttl":"1h","display_name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
LUA

# nginx, serving a file as long as the hit answer (written once the first realistic Gatehouse has cached it).
start_nginx() {
  mkdir -p "$OUT/nginx-tmp"
  chmod o+x "$OUT"; chmod -R a+rX "$OUT/www"   # nginx's workers run as an unprivileged user when started by root
  cat > "$OUT/nginx.conf" <<NGINX
worker_processes auto;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $OUT/nginx-tmp;
  proxy_temp_path $OUT/nginx-tmp;
  fastcgi_temp_path $OUT/nginx-tmp;
  uwsgi_temp_path $OUT/nginx-tmp;
  scgi_temp_path $OUT/nginx-tmp;
  default_type application/json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $OUT/www;
  }
}
NGINX
  /usr/sbin/nginx -c "$OUT/nginx.conf" -p "$OUT"
  for _ in $(seq 1 100); do [[ -s "$OUT/nginx.pid" ]] && break; sleep 0.05; done
  NGINX_PIDS="$(cat "$OUT/nginx.pid") $(pgrep -P "$(cat "$OUT/nginx.pid")" | tr '\n' ' ')"
}

# The .NET floor for a hit: a bare Kestrel answering the same POST with the hit's bytes from memory (bench/load's host,
# `static`), with Gatehouse's shipped thread-pool setting. Started once the first hit answer is known.
start_kestrel() {
  DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 "$OUT/load/gatehouse-load" static "$KESTREL_PORT" "$OUT/hit.body" > "$OUT/kestrel.log" 2>&1 &
  KESTREL=$!
  PIDS+=($KESTREL)
  for _ in $(seq 1 200); do grep -q '^ready' "$OUT/kestrel.log" 2>/dev/null && break; sleep 0.05; done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R   # key run:case -> "rps p50 p99 reqs cpu"
STARTS=(); IDLE=(); PEAK=(); AFTERS=()
# Start-up varies by tens of milliseconds from one exec to the next: --starts extra starts (each stopped at once)
# join the runs' own in the median.
for _ in $(seq 1 "$START_SAMPLES"); do
  start_real
  STARTS+=("$START_MS")
  kill -TERM "$REAL"; wait "$REAL" 2>/dev/null || true
done
for run in $(seq 1 "$RUNS"); do
  start_real
  STARTS+=("$START_MS")
  sleep 2
  IDLE+=("$(rss_kb "$REAL" VmRSS)")
  # Warm every path (JIT, pools), and make the MISS that fills the cache. The realistic Gatehouse is new in each run:
  # it gets 3 s at c=32 so that tiered compilation has promoted the request path before anything is measured (on a
  # busy machine the background compiler otherwise still runs, and its CPU counts against the first cases).
  for port in "$FLOOR_PORT" "$VAULT_PORT"; do
    wrk -t1 -c4 -d1s "http://127.0.0.1:$port/$HEALTH" >/dev/null
  done
  wrk -t2 -c32 -d3s "http://127.0.0.1:$REAL_PORT/$HEALTH" >/dev/null
  curl -fsS -o /dev/null -X POST -H "Content-Type: application/json" -d '{"ttl":"1h","display_name":"bench"}' "http://127.0.0.1:$REAL_PORT/$CREATE"
  curl -fsS -D "$OUT/hit.headers" -o "$OUT/hit.body" -X POST -H "Content-Type: application/json" \
    -d '{"ttl":"1h","display_name":"bench"}' "http://127.0.0.1:$REAL_PORT/$CREATE"
  grep -qi '^X-Cache: HIT' "$OUT/hit.headers" || { echo "auth/token/create is not served from the cache" >&2; exit 1; }
  if [[ $run == 1 ]]; then
    mkdir -p "$OUT/www/v1/auth/token"
    cp "$OUT/hit.body" "$OUT/www/$CREATE"
    start_nginx
    start_kestrel
    HIT_BYTES=$(stat -c %s "$OUT/hit.body")
  fi
  wrk -t2 -c32 -d3s -s "$OUT/create.lua" "http://127.0.0.1:$REAL_PORT/$CREATE" >/dev/null
  wrk -t1 -c4 -d1s "http://127.0.0.1:$NGINX_PORT/$CREATE" >/dev/null
  wrk -t2 -c32 -d3s -s "$OUT/create.lua" "http://127.0.0.1:$KESTREL_PORT/$CREATE" >/dev/null

  # Alternate which Gatehouse goes first, so a drift in the machine's load does not always favour the same one.
  if (( run % 2 )); then order=(real floor); else order=(floor real); fi
  for c in 1 32; do
    R[$run:dh$c]=$(run_wrk "$DV" "http://127.0.0.1:$VAULT_PORT/$HEALTH" "$c")
    for who in "${order[@]}"; do
      if [[ $who == real ]]; then
        R[$run:rh$c]=$(run_wrk "$REAL" "http://127.0.0.1:$REAL_PORT/$HEALTH" "$c")
      else
        R[$run:fh$c]=$(run_wrk "$FLOOR" "http://127.0.0.1:$FLOOR_PORT/$HEALTH" "$c")
      fi
    done
    R[$run:hit$c]=$(run_wrk "$REAL" "http://127.0.0.1:$REAL_PORT/$CREATE" "$c" "$OUT/create.lua")
    R[$run:ngx$c]=$(run_wrk "$NGINX_PIDS" "http://127.0.0.1:$NGINX_PORT/$CREATE" "$c")
    R[$run:kst$c]=$(run_wrk "$KESTREL" "http://127.0.0.1:$KESTREL_PORT/$CREATE" "$c" "$OUT/create.lua")
  done
  # A sidecar's steady trickle: 200 r/s on one connection (what the c=1 CPU bill of a sidecar is made of).
  for who in "${order[@]}"; do
    if [[ $who == real ]]; then R[$run:rp]=$(run_paced "$REAL" "$REAL_PORT"); else R[$run:fp]=$(run_paced "$FLOOR" "$FLOOR_PORT"); fi
  done
  PEAK+=("$(rss_kb "$REAL" VmHWM)")
  sleep "$AFTER"
  AFTERS+=("$(rss_kb "$REAL" VmRSS)")
  printf 'run %d done: start %d ms, RSS idle %d / peak %d / after %d KiB, load average %s\n' "$run" "$START_MS" \
    "${IDLE[-1]}" "${PEAK[-1]}" "${AFTERS[-1]}" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
  kill -TERM "$REAL"; wait "$REAL" 2>/dev/null || true
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# field k (1 rps, 2 p50, 3 p99, 5 cpu) of case over the runs -> median
med() { local vals=() run; for run in $(seq 1 "$RUNS"); do vals+=("$(cut -d' ' -f"$2" <<<"${R[$run:$1]}")"); done; median "${vals[@]}"; }

printf '\n%s UTC, %s run(s) of %ss per case (median shown), %s cores, load average before: %s\n' \
  "$(date -u '+%Y-%m-%d %H:%M')" "$RUNS" "$DURATION" "$(nproc)" "$LOAD_BEFORE"
printf 'gatehouse: %s%s\n' "$BIN" "${GH_ENV:+ (with $GH_ENV)}"
printf '%-44s %3s | %8s %7s %7s | %9s\n' case c "r/s" "p50 µs" "p99 µs" "CPU µs/req"
row() { printf '%-44s %3s | %8.0f %7.0f %7.0f | %9.1f\n' "$1" "$2" "$(med "$3" 1)" "$(med "$3" 2)" "$(med "$3" 3)" "$(med "$3" 5)"; }
for c in 1 32; do
  row "sys/health, DevVault direct (DevVault CPU)" "$c" "dh$c"
  row "sys/health, floor: bare Gatehouse" "$c" "fh$c"
  row "sys/health, realistic Gatehouse" "$c" "rh$c"
done
row "sys/health, floor, paced 200 r/s (python)" 1 fp
row "sys/health, realistic, paced 200 r/s (python)" 1 rp
for c in 1 32; do
  row "token create, cache HIT ($HIT_BYTES B)" "$c" "hit$c"
  row "nginx, static file of $HIT_BYTES B (all workers)" "$c" "ngx$c"
  row "bare Kestrel: same POST, $HIT_BYTES B from memory" "$c" "kst$c"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
printf 'realistic sys/health: proxied ÷ direct r/s c=1 %s×, c=32 %s×; CPU ÷ floor CPU c=1 %s×, c=32 %s×\n' \
  "$(ratio "$(med rh1 1)" "$(med dh1 1)")" "$(ratio "$(med rh32 1)" "$(med dh32 1)")" \
  "$(ratio "$(med rh1 5)" "$(med fh1 5)")" "$(ratio "$(med rh32 5)" "$(med fh32 5)")"
printf 'CPU per request c=1 ÷ c=32: realistic %s× (aim ≤ 1.2×), floor %s×, cache hit %s×; paced 200 r/s ÷ c=32: realistic %s×\n' \
  "$(ratio "$(med rh1 5)" "$(med rh32 5)")" "$(ratio "$(med fh1 5)" "$(med fh32 5)")" "$(ratio "$(med hit1 5)" "$(med hit32 5)")" \
  "$(ratio "$(med rp 5)" "$(med rh32 5)")"
printf 'cache hit c=32: %.1f µs CPU per hit (aim ≤ 15); hit r/s ÷ nginx r/s %s× (aim ≥ 0.9×); CPU per hit ÷ nginx CPU per request %s×\n' \
  "$(med hit32 5)" "$(ratio "$(med hit32 1)" "$(med ngx32 1)")" "$(ratio "$(med hit32 5)" "$(med ngx32 5)")"
printf 'the .NET floor: bare Kestrel CPU per request c=1 %.1f µs, c=32 %.1f µs (c=1 ÷ c=32 %s×; nginx %s×); cache hit ÷ bare Kestrel CPU c=32 %s×\n' \
  "$(med kst1 5)" "$(med kst32 5)" "$(ratio "$(med kst1 5)" "$(med kst32 5)")" "$(ratio "$(med ngx1 5)" "$(med ngx32 5)")" \
  "$(ratio "$(med hit32 5)" "$(med kst32 5)")"
printf 'exec → listener up and token in sink: %s ms (median of %d starts: %s)\n' "$(median "${STARTS[@]}")" "${#STARTS[@]}" "${STARTS[*]}"
printf 'realistic Gatehouse RSS: idle %.1f MiB, peak %.1f MiB, %ss after the load %.1f MiB (medians)\n' \
  "$(awk -v k="$(median "${IDLE[@]}")" 'BEGIN {print k / 1024}')" "$(awk -v k="$(median "${PEAK[@]}")" 'BEGIN {print k / 1024}')" \
  "$AFTER" "$(awk -v k="$(median "${AFTERS[@]}")" 'BEGIN {print k / 1024}')"
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
