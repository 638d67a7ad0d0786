#!/usr/bin/env bash
# Prepares a running `gatehouse dev` for the client sessions, with the root token directly on DevVault, as the
# RealClients tests do: KV v1 at kv/, and tests/clients/session-policy.hcl as the "dev" policy.
#   tests/clients/prepare-dev.sh [DEVVAULT_ADDR (http://127.0.0.1:8200)] [ROOT_TOKEN (root)]
set -euo pipefail
cd "$(dirname "$0")"
addr=${1:-http://127.0.0.1:8200}
root=${2:-root}

call() { # METHOD PATH JSON
  local status
  status=$(curl -sS -o /dev/stderr -w '%{http_code}' -X "$1" -H "X-Vault-Token: $root" -H 'Content-Type: application/json' \
    --data-binary @- "$addr/v1/$2" <<<"$3")
  [ "$status" = 204 ] || [ "$status" = 200 ] || { echo "$1 $2: HTTP $status" >&2; exit 1; }
}

mounts=$(curl -sS -H "X-Vault-Token: $root" "$addr/v1/sys/mounts")
case "$mounts" in
  *'"kv/"'*) ;;
  *) call POST sys/mounts/kv '{"type": "kv", "options": {"version": "1"}}' ;;
esac
call PUT sys/policies/acl/dev "$(/usr/bin/python3 -c 'import json, sys; print(json.dumps({"policy": sys.stdin.read()}))' <session-policy.hcl)"
echo "prepared $addr: kv/ is KV v1, the dev policy is tests/clients/session-policy.hcl"
