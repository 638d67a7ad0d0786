listener "tcp" {
  tls_disable = true
  tls_max_version = "ssl30"
}
auto_auth {
  method "approle" {
    config = {
      role_id_file_path = "/etc/gatehouse/role-id"
    }
  }
  sink "file" {
    config = {
      path = "/tmp/token"
    }
  }
}
