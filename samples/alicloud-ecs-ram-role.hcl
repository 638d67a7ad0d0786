# Alibaba Cloud auto-auth on an ECS instance: Gatehouse signs an STS GetCallerIdentity call with the keys of the
# instance's RAM role (read from the ECS metadata service) and Vault's alicloud auth method checks it with STS.
#
# With none of access_key, role_arn, role_name or private_key set, the keys come from ALICLOUD_* environment variables
# when present, else from the metadata service (the instance's own RAM role), as Vault Agent's chain does.

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  # The keys of a RAM role rotate: log in again as soon as the poller sees new ones, not at the token's end.
  enable_reauth_on_new_credentials = true

  method "alicloud" {
    mount_path = "auth/alicloud"

    config = {
      role                     = "web"          # the Vault role (bound to the RAM role's ARN)
      region                   = "cn-hangzhou"  # the STS endpoint the signed call names
      credential_poll_interval = 300            # whole seconds (a number, as in Vault Agent); the default is 60
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
