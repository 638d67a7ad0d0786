# The "dev" policy the client sessions need (tests/clients/*): gatehouse dev's own policy only reads, and the sessions
# write, list and delete KV, and create, look up and revoke child tokens. tests/clients/prepare-dev.sh and the
# RealClients tests write it over "dev"; Vault applies a policy change on the next request, without a new login.
# sys/internal/ui/mounts is deliberately absent: as in Vault, any token with a capability on a path may read the
# mount it lives on (the vault CLI's `kv` preflight).
path "secret/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "kv/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "auth/token/create" {
  capabilities = ["create", "update"]
}
path "auth/token/lookup" {
  capabilities = ["update"]
}
path "auth/token/revoke" {
  capabilities = ["update"]
}
