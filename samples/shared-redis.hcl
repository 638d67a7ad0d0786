# One of several Gatehouse replicas (a Deployment, a DaemonSet, VMs behind a load balancer) that share one auto-auth
# identity through Redis: one replica logs in and renews, the others adopt its token and write it to their own sinks.
#
# Every replica of the fleet has the same auto-auth method configuration and the same key material; the key never goes
# to Redis, and everything Gatehouse writes there is sealed with it. If Redis is unreachable each replica keeps working
# on its own and rejoins when Redis returns.

vault {
  address = "https://vault.example.com:8200"
}

auto_auth {
  method "kubernetes" {
    config = {
      role = "app"
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

cache {
  shared "redis" {
    address = "redis.gatehouse.svc:6379"
    # With Redis ACLs and TLS (validate reads these files, so they must exist where it runs):
    #   username      = "gatehouse"
    #   password_file = "/etc/gatehouse/redis-password"
    #   tls_ca_cert   = "/etc/gatehouse/redis-ca.pem"
    # The same base64 key material (at least 32 bytes) on every replica: head -c 32 /dev/urandom | base64
    key_env_var = "GATEHOUSE_SHARED_KEY"
    # Redis may add at most this much to a client request; past it the replica goes on without Redis.
    operation_timeout = "250ms"
  }
}

listener "tcp" {
  address     = "127.0.0.1:8100"
  tls_disable = true
}
