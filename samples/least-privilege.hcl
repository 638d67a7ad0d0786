# Least privilege for the shared auto-auth token (Gatehouse only: Vault Agent and Vault Proxy reject these keys).
#
# Gatehouse logs in once (approle) and lends that token to requests that bring none. Each application gets a
# listener of its own, and each listener lets the auto-auth token reach only that application's paths, so no
# application holds the union of everyone's rights. A request that brings its own X-Vault-Token is not affected.
# Patterns are Vault policy paths (below /v1/): "*" only at the end (any rest), "+" for exactly one segment.
# Paths are matched as Vault will route them (decoded, "//", "." and ".." cleaned, X-Vault-Namespace first).
# Anything outside the rules gets a 403 and never reaches Vault, nor any cache, with the token.
#
#   gatehouse validate -config=samples/least-privilege.hcl

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "/etc/gatehouse/role-id"
      secret_id_file_path = "/etc/gatehouse/secret-id"
    }
  }
}

api_proxy {
  use_auto_auth_token = true

  # For every listener that sets neither list itself: the token's own lookup and renewal, and nothing under sys/.
  auto_auth_token_allow_paths = ["auth/token/lookup-self", "auth/token/renew-self"]
  auto_auth_token_deny_paths  = ["sys/*"]
}

# Operators' tools: api_proxy's lists apply.
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}

# App 1: its KV v2 secrets (read, list and history), but never its admin subtree; deny wins over allow.
# Setting a list here replaces BOTH of api_proxy's lists on this listener, so "sys/*" is repeated.
listener "tcp" {
  address     = "127.0.0.1:8101"
  tls_disable = true

  auto_auth_token_allow_paths = ["secret/data/app1/*", "secret/metadata/app1/*", "auth/token/lookup-self"]
  auto_auth_token_deny_paths  = ["secret/data/app1/admin/*", "sys/*"]
}

# App 2, on a socket only its user may open: the config of any one environment ("+" is one segment, so
# secret/data/app2/prod/config is allowed and secret/data/app2/prod/db/password is not), and its database role.
listener "unix" {
  address     = "/run/gatehouse/app2.sock"
  socket_mode = "0600"
  tls_disable = true

  auto_auth_token_allow_paths = ["secret/data/app2/+/config", "database/creds/app2"]
}
