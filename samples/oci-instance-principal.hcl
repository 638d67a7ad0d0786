# Oracle Cloud auto-auth with instance principals: Gatehouse takes the instance's certificate from the OCI metadata
# service, obtains a security token from OCI's federation service, and signs Vault's oci login with it. The Vault role
# names the dynamic groups the instance belongs to (its ocid_list).
#
# For an API key instead, set type = "apikey": the key comes from OCI_* environment variables or ~/.oci/config.

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "oci" {
    mount_path = "auth/oci"

    config = {
      type                     = "instance"
      role                     = "web"
      credential_poll_interval = "5m"   # a duration or whole seconds; the default is 60s
    }
  }

  sink "file" {
    config = {
      path = "/run/gatehouse/token"
    }
  }
}

api_proxy {
  use_auto_auth_token = true
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
