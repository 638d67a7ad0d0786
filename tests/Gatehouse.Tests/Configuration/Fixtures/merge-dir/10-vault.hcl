vault {
  address = "https://first:8200"
}
log_level = "info"
exit_after_auth = true
