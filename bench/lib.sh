# Shared by the bench scripts (source it after setting OUT, VAULT_PORT and PIDS): DevVault from bench/load's host,
# readiness waits, and an approle role provisioned as an operator would.

# Waits up to ~10 s for a 2xx from URL; exits the script otherwise.
wait_http() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "not ready: $1" >&2; exit 1; }

# Starts DevVault (the load host built into $OUT/load) on $VAULT_PORT; its pid goes to DV_PID and PIDS.
# "ready" comes after the host's dev scenario (approle mounted), which a bare health check would race.
start_devvault() {
  mkdir -p "$OUT/work"
  "$OUT/load/gatehouse-load" devvault "$VAULT_PORT" "$OUT/work" > "$OUT/devvault.log" 2>&1 &
  DV_PID=$!
  PIDS+=($DV_PID)
  for _ in $(seq 1 400); do grep -q '^ready' "$OUT/devvault.log" 2>/dev/null && break; sleep 0.05; done
  wait_http "http://127.0.0.1:$VAULT_PORT/v1/sys/health"
}

# A root-token call to DevVault.
vault() { curl -fsS -H "X-Vault-Token: root" -H "Content-Type: application/json" "$@"; }

# The approle role "app" (default policy, 1h tokens) and its role id in $OUT/role_id.
provision_approle() {
  vault -X POST -d '{"token_ttl":"1h","token_policies":["default"]}' "http://127.0.0.1:$VAULT_PORT/v1/auth/approle/role/app" >/dev/null
  vault "http://127.0.0.1:$VAULT_PORT/v1/auth/approle/role/app/role-id" | sed -E 's/.*"role_id":"([^"]+)".*/\1/' > "$OUT/role_id"
}

# A fresh secret id for "app" in $OUT/secret_id.
new_secret_id() {
  vault -X POST "http://127.0.0.1:$VAULT_PORT/v1/auth/approle/role/app/secret-id" | sed -E 's/.*"secret_id":"([^"]+)".*/\1/' > "$OUT/secret_id"
}
