# Vault Agent templates: global template_config and a template with exec permissions
vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path = "/etc/vault/roleid"
      secret_id_file_path = "/etc/vault/secretid"
    }
  }
}

template_config {
  static_secret_render_interval = "10m"
  exit_on_retry_failure = true
  max_connections_per_host = 20
  lease_renewal_threshold = 0.75
}

template {
  source      = "/tmp/agent/template.ctmpl"
  destination = "/tmp/agent/render.txt"
  perms       = "0640"
  command     = ["/bin/sh", "-c", "systemctl reload nginx"]
  error_on_missing_key = true

  wait {
    min = "2s"
    max = "10s"
  }
}

template {
  contents     = "{{ with secret \"secret/my-secret\" }}{{ .Data.data.foo }}{{ end }}"
  destination  = "/tmp/agent/render-content.txt"
  left_delimiter  = "[["
  right_delimiter = "]]"
}
