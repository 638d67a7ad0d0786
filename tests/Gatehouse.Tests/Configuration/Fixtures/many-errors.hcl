vault {
  adress = "https://vault:8200"
}

auto_auth {
  method "approle" {
    min_backoff = "10m"
    max_backoff = "1m"
    config = {
      secret_id_file_path = "/etc/gatehouse/secret-id"
    }
  }

  sink "file" {
    derive_key = true
    config = {
      mode = "rw"
    }
  }
}

api_proxy {
  use_auto_auth_token = "always"
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = ["no"]
  role        = "admin"
}

template {
  source = "/a.tpl"
}
