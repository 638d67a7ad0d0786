auto_auth {
  method "kerberos" {
    config = {
      username             = "svc-app"
      service              = "HTTP/vault.example.com"
      realm                = "EXAMPLE.COM"
      keytab_path          = "/etc/gatehouse/svc-app.keytab"
      krb5conf_path        = "/etc/krb5.conf"
      remove_instance_name = true
    }
  }
  sink "file" {
    config = { path = "/tmp/token" }
  }
}
