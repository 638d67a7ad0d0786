vault {
  address = "https://a:8200"
}
vault {
  address = "https://b:8200"
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
