"""A sidecar's steady trickle: COUNT GET requests to PATH on 127.0.0.1:PORT over one keep-alive connection, one every
GAP seconds (a fixed schedule, not back-to-back as wrk sends them). Prints "p50_us p99_us" of the round trips.
bench/load/run.sh reads the server's CPU before and after, for its CPU per request at a low, steady rate.
Usage: python3 bench/load/paced.py PORT PATH COUNT GAP"""
import http.client
import sys
import time

port, path, count, gap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
latencies = []
due = time.monotonic()
for _ in range(count):
    started = time.monotonic()
    connection.request('GET', path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f'{path} answered {response.status}')
    latencies.append(time.monotonic() - started)
    due += gap
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)
latencies.sort()
print(f'{latencies[len(latencies) // 2] * 1e6:.0f} {latencies[int(len(latencies) * 0.99)] * 1e6:.0f}')
