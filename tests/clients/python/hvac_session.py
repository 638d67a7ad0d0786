#!/usr/bin/python3
"""A realistic hvac session through Gatehouse, on one keep-alive connection.

Run with Debian's /usr/bin/python3 (python3-hvac 0.11.2; scripts/install-test-deps.sh installs it):

    /usr/bin/python3 tests/clients/python/hvac_session.py \\
        --address http://127.0.0.1:8100 --auto-auth-token-file /tmp/gatehouse-dev-XXXX/token --run-id py-tcp
    /usr/bin/python3 tests/clients/python/hvac_session.py \\
        --address unix:///tmp/gatehouse.sock --auto-auth-token-file ... --run-id py-unix

--address takes Vault's own forms: http://host:port or unix:///path/to/socket (as VAULT_AGENT_ADDR does).
The client sends no token of its own: Gatehouse must add its auto-auth token (use_auto_auth_token = true).

Gatehouse must proxy a Vault (DevVault under `gatehouse dev`) with KV v2 at secret/, KV v1 at kv/, and an auto-auth
token whose policy is tests/clients/session-policy.hcl. tests/clients/prepare-dev.sh sets up a running
`gatehouse dev -proxy-unix-socket=/tmp/gatehouse.sock` that way; the RealClients tests do the same.

Prints each step; exits 1 at the first failed check with the step, the reason and the last exchanges on the wire,
and 3 when hvac is not installed.
"""

import argparse
import importlib.metadata
import os
import socket
import sys
import traceback

try:
    import hvac
    import hvac.exceptions
    import requests
    import requests.adapters
    import urllib3
    import urllib3.connection
    import urllib3.connectionpool
except ImportError as _missing:
    print("FAIL: python3-hvac is not installed for %s (%s): run scripts/install-test-deps.sh" % (sys.executable, _missing))
    sys.exit(3)

# The session must reach Gatehouse directly, whatever proxy the calling environment names.
for _name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"


class CheckFailed(Exception):
    pass


# ---- the wire: every connection opened and every response, so the checks can say what happened -----------------

CONNECTS = []  # one entry per socket connect(): a description of the connection
EXCHANGES = []  # (method, path, status, body text, connections opened so far) for each response, in order

_original_connect = socket.socket.connect


def _counting_connect(sock, address):
    _original_connect(sock, address)
    if sock.family == socket.AF_UNIX:
        CONNECTS.append("#%d unix socket %s" % (len(CONNECTS) + 1, address))
    else:
        CONNECTS.append("#%d tcp %s:%s from local port %d" % (len(CONNECTS) + 1, address[0], address[1], sock.getsockname()[1]))


# Counts every connection any layer (requests, urllib3, the unix adapter below) opens.
socket.socket.connect = _counting_connect


ATTEMPTS = []  # (method, path) of each request sent, in order


class RecordingSession(requests.Session):
    """hvac's default keep-alive requests.Session, remembering each request sent (for the failure message)."""

    def send(self, request, **kwargs):
        ATTEMPTS.append((request.method, request.path_url))
        return super().send(request, **kwargs)


XCACHE = []  # the X-Cache header of each response, in order (None when absent)


def _record(response, *args, **kwargs):
    body = response.content.decode("utf-8", "replace") if response.content else ""
    EXCHANGES.append((response.request.method, response.request.path_url, response.status_code, body, len(CONNECTS)))
    XCACHE.append(response.headers.get("X-Cache"))


# ---- hvac over a unix socket -----------------------------------------------------------------------------------
# Debian's python3-requests-unixsocket (0.3.0) keys its connection pools by the full request URL, so every distinct
# path opens a new connection: no keep-alive across a session. This adapter keeps one pool (of one connection) per
# socket, which is what a real client needs and what this test checks.


class _UnixConnection(urllib3.connection.HTTPConnection):
    def __init__(self, *args, socket_path, **kwargs):
        super().__init__(*args, **kwargs)
        self._socket_path = socket_path

    def _new_conn(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if isinstance(self.timeout, (int, float)):
            sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        return sock


class _UnixConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _UnixConnection


class UnixSocketAdapter(requests.adapters.HTTPAdapter):
    """requests adapter for http+unix://<anything>/path: every request goes to one unix socket."""

    def __init__(self, socket_path):
        self._pool = _UnixConnectionPool("localhost", maxsize=1, block=True, socket_path=socket_path)
        super().__init__()

    def get_connection(self, url, proxies=None):
        return self._pool

    def request_url(self, request, proxies):
        return request.path_url

    def close(self):
        self._pool.close()
        super().close()


# ---- the session ------------------------------------------------------------------------------------------------


class Session:
    def __init__(self, address, token_file, run_id):
        self.token_file = token_file
        self.run_id = run_id
        self.http = RecordingSession()
        self.http.hooks["response"].append(_record)
        if address.startswith("unix://"):
            self.url = "http+unix://gatehouse"
            self.http.mount("http+unix://", UnixSocketAdapter(address[len("unix://"):]))
        else:
            self.url = address.rstrip("/")
        self.step_name = ""

    def client(self, token=""):
        # token="" (not None): hvac would otherwise read VAULT_TOKEN or ~/.vault-token; "" sends no X-Vault-Token.
        return hvac.Client(url=self.url, token=token, session=self.http, timeout=30)

    def step(self, name):
        self.step_name = name
        print("==> " + name, flush=True)

    def ok(self, detail):
        self.expect_one_connection()
        print("    ok: " + detail, flush=True)

    def check(self, condition, message):
        if not condition:
            raise CheckFailed(message)

    def last(self):
        self.check(EXCHANGES, "no response was received")
        return EXCHANGES[-1]

    def expect_status(self, status, what):
        method, path, got, body, _ = self.last()
        self.check(got == status, "%s: expected HTTP %d, got %d from %s %s: %s" % (what, status, got, method, path, body[:500]))

    def expect_one_connection(self):
        if len(CONNECTS) <= 1:
            return
        first_on_new = next((i for i, e in enumerate(EXCHANGES) if e[4] > 1), None)
        if first_on_new is None:
            raise CheckFailed("a second connection was opened: %s" % "; ".join(CONNECTS))
        before = EXCHANGES[first_on_new - 1] if first_on_new > 0 else None
        after = EXCHANGES[first_on_new]
        raise CheckFailed(
            "the keep-alive connection did not survive: the client had to open a second connection for %s %s. "
            "The last answer on the first connection was %s. Connections: %s" % (
                after[0], after[1],
                "%s %s -> %d %r" % (before[0], before[1], before[2], before[3][:200]) if before else "none",
                "; ".join(CONNECTS)))

    def expect_error(self, status, call, what):
        try:
            call()
        except hvac.exceptions.VaultError:
            self.expect_status(status, what)
            return
        raise CheckFailed("%s: expected HTTP %d, but the call succeeded: %s" % (what, status, self.last()))

    def auto_auth_token(self):
        with open(self.token_file, encoding="utf-8") as f:
            return f.read().strip()


def run(s):
    c = s.client()
    p = "gatehouse-clients/%s" % s.run_id

    s.step("GET sys/health")
    health = c.sys.read_health_status(method="GET")
    s.check(isinstance(health, dict) and health.get("initialized") is True and health.get("sealed") is False,
            "unexpected health answer: %r" % (health,))
    s.ok("initialized, unsealed, version %s; connected: %s" % (health.get("version"), CONNECTS[0]))

    s.step("lookup-self with no client token (Gatehouse adds its auto-auth token and redacts it)")
    me = c.auth.token.lookup_self()
    body = s.last()[3]
    token = s.auto_auth_token()
    s.check(token and token not in body, "the lookup-self answer contains the auto-auth token: %s" % body[:500])
    s.check("dev" in me["data"]["policies"], "expected the auto-auth token's policies to include dev: %r" % me["data"])
    s.check(me["data"].get("id") in ("", None), "lookup-self data.id should be redacted, got %r" % me["data"].get("id"))
    s.ok("policies %s, id redacted, the token from the sink appears nowhere in the answer" % me["data"]["policies"])

    kv2 = c.secrets.kv.v2
    s.step("KV v2: write two versions of secret/%s/app" % p)
    first = kv2.create_or_update_secret(path=p + "/app", secret={"user": "app", "password": "first"}, mount_point="secret")
    second = kv2.create_or_update_secret(path=p + "/app", secret={"user": "app", "password": "päss-2 ✓"}, mount_point="secret")
    s.check(first["data"]["version"] == 1 and second["data"]["version"] == 2,
            "expected versions 1 and 2, got %r and %r" % (first["data"], second["data"]))
    s.ok("versions 1 and 2")

    s.step("KV v2: read the latest and version 1")
    latest = kv2.read_secret_version(path=p + "/app", mount_point="secret")
    old = kv2.read_secret_version(path=p + "/app", version=1, mount_point="secret")
    s.check(latest["data"]["data"] == {"user": "app", "password": "päss-2 ✓"}, "latest read: %r" % latest["data"])
    s.check(latest["data"]["metadata"]["version"] == 2, "latest metadata: %r" % latest["data"]["metadata"])
    s.check(old["data"]["data"]["password"] == "first", "version 1 read: %r" % old["data"])
    s.ok("values round-trip (non-ASCII included)")

    s.step("KV v2: the same token reads the latest version again: served from the static-secret cache")
    again = kv2.read_secret_version(path=p + "/app", mount_point="secret")
    s.check(XCACHE[-1] == "HIT", "expected X-Cache: HIT on the second read, got %r" % (XCACHE[-1],))
    s.check(again["data"] == latest["data"], "the cached answer differs: %r vs %r" % (again["data"], latest["data"]))
    s.ok("X-Cache: HIT, same answer")

    s.step("KV v2: list secret/metadata/%s" % p)
    kv2.create_or_update_secret(path=p + "/other", secret={"x": "1"}, mount_point="secret")
    keys = kv2.list_secrets(path=p, mount_point="secret")["data"]["keys"]
    s.check(sorted(keys) == ["app", "other"], "expected keys [app, other], got %r" % keys)
    s.ok("keys %s" % keys)

    s.step("KV v2: delete the latest version (204), then read it (404)")
    resp = kv2.delete_latest_version_of_secret(path=p + "/app", mount_point="secret")
    s.expect_status(204, "DELETE secret/data/%s/app" % p)
    s.check(isinstance(resp, requests.Response), "expected hvac to hand back the 204 response, got %r" % (resp,))
    s.expect_error(404, lambda: kv2.read_secret_version(path=p + "/app", mount_point="secret"), "read of a deleted version")
    s.ok("204, then 404")

    s.step("KV v2: delete metadata and all versions (204 each), then list (404)")
    kv2.delete_metadata_and_all_versions(path=p + "/app", mount_point="secret")
    s.expect_status(204, "DELETE secret/metadata/%s/app" % p)
    kv2.delete_metadata_and_all_versions(path=p + "/other", mount_point="secret")
    s.expect_status(204, "DELETE secret/metadata/%s/other" % p)
    s.expect_error(404, lambda: kv2.list_secrets(path=p, mount_point="secret"), "list after deleting everything")
    s.ok("204, 204, then 404")

    kv1 = c.secrets.kv.v1
    s.step("KV v1: write kv/%s/db (204) and read it back" % p)
    kv1.create_or_update_secret(path=p + "/db", secret={"url": "postgres://db:5432/app", "n": 3}, mount_point="kv")
    s.expect_status(204, "POST kv/%s/db" % p)
    got = kv1.read_secret(path=p + "/db", mount_point="kv")
    s.check(got["data"] == {"url": "postgres://db:5432/app", "n": 3}, "KV v1 read: %r" % got)
    s.ok("value round-trips")

    s.step("KV v1: list kv/%s" % p)
    keys = kv1.list_secrets(path=p, mount_point="kv")["data"]["keys"]
    s.check(keys == ["db"], "expected keys [db], got %r" % keys)
    s.ok("keys %s" % keys)

    s.step("KV v1: wrapped read (X-Vault-Wrap-TTL: 60s), then unwrap with the wrapping token as the client token")
    wrapped = c.read("kv/%s/db" % p, wrap_ttl="60s")
    info = wrapped.get("wrap_info") or {}
    s.check(info.get("token") and wrapped.get("data") is None, "expected a wrapped answer, got %r" % wrapped)
    s.check(info.get("creation_path") == "kv/%s/db" % p, "wrap_info.creation_path: %r" % info)
    unwrapped = s.client(token=info["token"]).sys.unwrap()
    s.check(unwrapped["data"] == {"url": "postgres://db:5432/app", "n": 3}, "unwrapped: %r" % unwrapped)
    s.expect_error(400, lambda: s.client(token="").sys.unwrap(token=info["token"]), "a second unwrap of the same token")
    s.ok("unwrapped once; a second unwrap is refused")

    s.step("KV v1: delete (204), then read (404)")
    kv1.delete_secret(path=p + "/db", mount_point="kv")
    s.expect_status(204, "DELETE kv/%s/db" % p)
    s.expect_error(404, lambda: kv1.read_secret(path=p + "/db", mount_point="kv"), "read of a deleted KV v1 secret")
    s.ok("204, then 404")

    s.step("token create (a child of the auto-auth token)")
    created = c.auth.token.create(policies=["default"], ttl="10m", meta={"run": s.run_id, "client": "hvac"})
    child = created["auth"]["client_token"]
    s.check(child and created["auth"]["policies"] == ["default"], "token create: %r" % created["auth"])
    s.ok("policies %s, ttl %ss" % (created["auth"]["policies"], created["auth"]["lease_duration"]))

    s.step("token lookup (by the auto-auth token) and lookup-self (by the child itself: not redacted)")
    looked = c.auth.token.lookup(child)
    s.check(looked["data"]["id"] == child and looked["data"]["meta"] == {"run": s.run_id, "client": "hvac"},
            "lookup: %r" % looked["data"])
    own = s.client(token=child).auth.token.lookup_self()
    s.check(own["data"]["id"] == child, "the child's own lookup-self must show its id: %r" % own["data"])
    s.ok("both show the child's id and meta")

    s.step("token revoke (204), then lookup (403)")
    c.auth.token.revoke(child)
    s.expect_status(204, "POST auth/token/revoke")
    s.expect_error(403, lambda: c.auth.token.lookup(child), "lookup of a revoked token")
    s.ok("204, then 403")

    s.step("wrapped token create (X-Vault-Wrap-TTL: 60s), then sys/wrapping/unwrap with the token in the body")
    wrapped = c.auth.token.create(policies=["default"], ttl="10m", meta={"run": s.run_id, "wrapped": "yes"}, wrap_ttl="60s")
    info = wrapped.get("wrap_info") or {}
    s.check(info.get("token") and wrapped.get("auth") is None, "expected a wrapped token create, got %r" % wrapped)
    s.check(info.get("creation_path") == "auth/token/create", "wrap_info.creation_path: %r" % info)
    unwrapped = c.sys.unwrap(token=info["token"])
    inner = (unwrapped.get("auth") or {}).get("client_token")
    s.check(inner, "the unwrapped answer has no auth.client_token: %r" % unwrapped)
    s.check(c.auth.token.lookup(inner)["data"]["meta"] == {"run": s.run_id, "wrapped": "yes"}, "lookup of the unwrapped token")
    c.auth.token.revoke(inner)
    s.expect_status(204, "POST auth/token/revoke (unwrapped token)")
    s.ok("unwrapped a working token, then revoked it")

    s.step("the whole session used one connection")
    s.check(len(EXCHANGES) > 20, "expected more than 20 exchanges, saw %d" % len(EXCHANGES))
    s.check(len(CONNECTS) == 1, "expected exactly one connection, saw %d" % len(CONNECTS))
    s.expect_one_connection()
    s.ok("%d requests on one connection (%s)" % (len(EXCHANGES), CONNECTS[0]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", required=True, help="http://HOST:PORT or unix:///path/to/socket")
    parser.add_argument("--auto-auth-token-file", required=True, help="Gatehouse's file sink, to check redaction")
    parser.add_argument("--run-id", default="py", help="names this run's secrets and token metadata")
    args = parser.parse_args()

    s = Session(args.address, args.auto_auth_token_file, args.run_id)
    print("hvac session through Gatehouse at %s (hvac %s, requests %s, urllib3 %s)" % (
        args.address, importlib.metadata.version("hvac"), requests.__version__, urllib3.__version__), flush=True)
    try:
        run(s)
    except CheckFailed as e:
        _fail(s, str(e))
    except Exception as e:  # an hvac or requests error is a failure of the step too, with its message
        pending = ATTEMPTS[-1] if len(ATTEMPTS) > len(EXCHANGES) else None
        where = " (no answer to %s %s)" % pending if pending else ""
        _fail(s, "%s: %s%s\n%s" % (type(e).__name__, e, where, traceback.format_exc(limit=-3)))
    print("PASS: hvac session over %s" % args.address, flush=True)
    return 0


def _fail(s, message):
    print("FAIL: step \"%s\": %s" % (s.step_name, message), flush=True)
    print("connections opened: %s" % ("; ".join(CONNECTS) or "none"), flush=True)
    print("last exchanges:", flush=True)
    for method, path, status, body, connections in EXCHANGES[-4:]:
        print("    [connection %d] %s %s -> %d %s" % (connections, method, path, status, body[:300]), flush=True)
    sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
