# Gatehouse sample configuration (Debian package). Vault Proxy's syntax: a Vault Proxy file works unchanged.
# Check it with:  gatehouse validate -config=/etc/gatehouse/proxy.hcl
# Start it with:  systemctl enable --now gatehouse
# Variables (VAULT_ADDR, ...) go in /etc/gatehouse/gatehouse.env; they override the vault block.

vault {
  address = "https://127.0.0.1:8200"
}

# Applications send their own token; uncomment auto_auth and set use_auto_auth_token = true to add one.
api_proxy {
  use_auto_auth_token = false
}

# For applications on this host that can reach a socket: /run/gatehouse is created by the unit (RuntimeDirectory=),
# mode 0750, so members of the gatehouse group can connect.
listener "unix" {
  address     = "/run/gatehouse/gatehouse.sock"
  tls_disable = true
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  # Loopback only, so plain HTTP is acceptable here. Anything else should use TLS.
  tls_disable = true
}

# auto_auth {
#   method "approle" {
#     config = {
#       role_id_file_path   = "/etc/gatehouse/role_id"
#       secret_id_file_path = "/etc/gatehouse/secret_id"
#       remove_secret_id_file_after_reading = false
#     }
#   }
#   sink "file" {
#     config = { path = "/var/lib/gatehouse/token" }
#   }
# }
