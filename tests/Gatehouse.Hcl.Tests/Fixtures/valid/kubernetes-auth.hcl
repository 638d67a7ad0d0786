# Auto-auth method "kubernetes" with a templated secret (Kubernetes sidecar style)
exit_after_auth = false
pid_file = "/home/vault/pidfile"

auto_auth {
    method "kubernetes" {
        mount_path = "auth/kubernetes"
        config = {
            role = "example"
            token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token"
        }
    }

    sink "file" {
        config = {
            path = "/home/vault/.vault-token"
        }
    }
}

template {
  destination = "/etc/secrets/index.html"
  contents = <<EOT
  <html>
  <body>
  <p>Some secrets:</p>
  {{- with secret "secret/data/myapp/config" }}
  <ul>
  <li><pre>username: {{ .Data.data.username }}</pre></li>
  <li><pre>password: {{ .Data.data.password }}</pre></li>
  </ul>
  {{ end }}
  </body>
  </html>
  EOT
}
