#!/usr/bin/env bash
# Memory under large request bodies: Gatehouse (Release build) with approle auto-auth, use_auto_auth_token = true and
# a lease cache, in front of DevVault in its own process (bench/load's host). Prints RSS of the Gatehouse process
# idle, its peak while 2 clients each POST 8 bodies of 31 MiB (half chunked, half with a Content-Length) to a path the
# cache keys (auth/token/create), and after the load has been gone for AFTER seconds (default 60), in MiB.
# Usage: bench/memory/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AFTER=${AFTER:-60}
VAULT_PORT=${VAULT_PORT:-18300}
PROXY_PORT=${PROXY_PORT:-18301}
OUT=$(mktemp -d /tmp/gatehouse-memory.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT

dotnet build -c Release "$ROOT/src/Gatehouse" -o "$OUT/bin" >/dev/null
dotnet build -c Release "$ROOT/bench/load/Gatehouse.Load" -o "$OUT/load" >/dev/null
source "$ROOT/bench/lib.sh"
start_devvault
provision_approle
new_secret_id
cat > "$OUT/proxy.hcl" <<HCL
vault { address = "http://127.0.0.1:$VAULT_PORT" }
auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "$OUT/role_id"
      secret_id_file_path = "$OUT/secret_id"
      remove_secret_id_file_after_reading = false
    }
  }
}
api_proxy { use_auto_auth_token = true }
cache {}
listener "tcp" {
  address     = "127.0.0.1:$PROXY_PORT"
  tls_disable = true
}
HCL
dotnet "$OUT/bin/gatehouse.dll" proxy -config="$OUT/proxy.hcl" > "$OUT/gatehouse.log" 2>&1 &
gh=$!
PIDS+=($gh)
for _ in $(seq 1 2000); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PROXY_PORT/v1/sys/health" 2>/dev/null)" == 200 ]] && break
  sleep 0.01
done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
sleep 3
echo "idle_mib $(rss "$gh")"

( while kill -0 "$gh" 2>/dev/null; do rss "$gh"; echo; sleep 0.1; done > "$OUT/samples" ) &
SAMPLER=$!
PROXY_PORT=$PROXY_PORT /usr/bin/python3 - <<'PY'
import http.client, os, threading
port = int(os.environ['PROXY_PORT'])
body = b'{"x":"' + b'a' * (31 * 1024 * 1024) + b'"}'
def chunks():
    for i in range(0, len(body), 65536):
        yield body[i:i + 65536]
def client():
    for i in range(8):
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
        if i % 2:
            c.request('POST', '/v1/auth/token/create', body=chunks(), encode_chunked=True)
        else:
            c.request('POST', '/v1/auth/token/create', body=body)
        r = c.getresponse(); r.read(); c.close()
ts = [threading.Thread(target=client) for _ in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
sleep 1
kill "$SAMPLER" 2>/dev/null || true
echo "peak_mib $(sort -n "$OUT/samples" | tail -1)"
sleep "$AFTER"
echo "after_${AFTER}s_mib $(rss "$gh")"
