telemetry {
  otlp_traces = true
}
listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
