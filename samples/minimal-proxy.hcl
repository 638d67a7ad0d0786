# The smallest useful Gatehouse configuration: a plain API proxy.
#
# Applications talk to http://127.0.0.1:8100 as if it were Vault; every request is forwarded to the Vault server
# below with the application's own token. There is no auto-auth and no cache.
#
#   gatehouse validate -config=samples/minimal-proxy.hcl
#   gatehouse proxy    -config=samples/minimal-proxy.hcl

vault {
  # The upstream Vault server. VAULT_ADDR or -address override it.
  address = "https://vault.example.com:8200"
}

# Without an api_proxy block the listener still proxies; the block is written out to show the default.
api_proxy {
  use_auto_auth_token = false
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  # Loopback only, so plain HTTP is acceptable here. Anything else should use TLS (see force-unix-tls.hcl).
  tls_disable = true
}
