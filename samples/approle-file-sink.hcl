# AppRole auto-auth, a file sink, and an API proxy that adds the auto-auth token to requests that carry none.
#
# Gatehouse logs in with the role ID and secret ID below, keeps the token renewed (logging in again when it
# expires), writes it to /run/gatehouse/token for programs that read a file, and lets programs that talk to the
# listener skip the token altogether.

vault {
  address = "https://vault.example.com:8200"
  ca_cert = "/etc/gatehouse/vault-ca.pem"

  retry {
    # Proxied requests are retried on 5xx and 412; 0 means the default of 12.
    num_retries = 5
    # Gatehouse only: a 503 (Vault sealed, no active node) is retried for this long, then passed on. The default is 5s.
    unavailable_budget = "3s"
  }
}

auto_auth {
  method "approle" {
    mount_path = "auth/approle"

    # Back off between failed logins from 1s doubling up to 5m (these are the defaults).
    min_backoff = "1s"
    max_backoff = "5m"

    config = {
      role_id_file_path   = "/etc/gatehouse/role-id"
      secret_id_file_path = "/etc/gatehouse/secret-id"
      # Keep the secret ID file so that a restart can log in again.
      remove_secret_id_file_after_reading = false
    }
  }

  sink "file" {
    config = {
      path = "/run/gatehouse/token"
      # Owner read/write, group read. 0640 is an octal literal, as in Vault.
      mode = 0640
    }
  }
}

api_proxy {
  # true: use the auto-auth token when a request has no X-Vault-Token of its own.
  use_auto_auth_token = true
  # Gatehouse only: at most this many requests with Vault at once (the default is 256); the rest queue, oldest first,
  # and one that waited upstream_queue_timeout (the default is 5s) is answered 503 with Retry-After, never sent.
  max_upstream_requests  = 128
  upstream_queue_timeout = "10s"
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
  # Refuse browser-originated requests (SSRF guard): clients must send "X-Vault-Request: true".
  require_request_header = true
}
