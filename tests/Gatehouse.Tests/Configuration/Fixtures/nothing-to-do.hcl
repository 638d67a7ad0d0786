pid_file = "/run/gatehouse.pid"
