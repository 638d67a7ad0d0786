# A Gatehouse beside apps that read KV secrets: static secret caching in the open build.
#
# Apps read secret/data/... through the listener (with their own token, or with none to use the auto-auth token).
# The first read of a path by a token goes to Vault; after that the same token is answered from memory while it may
# still read the path. Writes through Gatehouse evict at once; writes made straight to Vault are picked up within
# static_secret_refresh_interval.

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path   = "/etc/gatehouse/role-id"
      secret_id_file_path = "/etc/gatehouse/secret-id"
      remove_secret_id_file_after_reading = false
    }
  }
}

api_proxy {
  use_auto_auth_token = true
}

cache {
  # Vault Proxy Enterprise's keys, so its configs run unchanged.
  cache_static_secrets = true
  # Keep caching logins, token creations and leased secrets too (true: static secrets only).
  disable_caching_dynamic_secrets = false
  # A token that loses read access in Vault stops being served within this long.
  static_secret_token_capability_refresh_interval = "5m"
  # When Vault cannot be asked: drop the token's grants (its reads go to Vault again).
  static_secret_token_capability_refresh_behavior = "pessimistic"
  # Gatehouse only: revalidate cached secrets this often (0: rely on Vault Enterprise's event stream alone).
  static_secret_refresh_interval = "30s"
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
