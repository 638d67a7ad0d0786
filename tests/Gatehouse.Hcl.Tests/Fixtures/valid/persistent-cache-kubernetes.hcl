# Other Vault agent configuration blocks
# ...

cache {
  persist "kubernetes" {
    path = "/vault/agent-cache"
    keep_after_import = true
    exit_on_err = true
    service_account_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token"
  }
}
