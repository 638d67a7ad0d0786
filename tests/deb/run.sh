#!/usr/bin/env bash
# The Debian package, end to end, on this machine: build it (packaging/deb/build.sh), install it with dpkg -i, and
# check what it installed: `gatehouse version`, the user, group and directories postinst creates, the conffiles'
# owners and modes, `systemd-analyze verify` of the unit, the sample configuration validated and served by the
# installed binary as the gatehouse user (the unit's environment file read as systemd reads it). Purges the package
# at the end. Needs root (dpkg -i); otherwise it says so and exits 0 without doing anything.
#
# Usage: tests/deb/run.sh [build.sh arguments]   (default: --binary $GATEHOUSE_TEST_EXECUTABLE when that is set, the
#        shipped Native AOT binary scripts/test-published.sh published; else --fast, the quick JIT single file;
#        --binary FILE packages an already-published binary)
# Exit code 0: passed or skipped (the last line says which); 1: a check failed (the line before says which).
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "deb-test: $*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: needs root to dpkg -i the package (run as root, as CI does)"
  exit 0
fi
for tool in dpkg-deb dpkg curl setpriv; do
  command -v "$tool" >/dev/null 2>&1 || { say "SKIPPED: $tool not found"; exit 0; }
done

# One run at a time on this machine: the package is installed system-wide.
exec 9>/tmp/gatehouse-deb-test.lock
flock 9

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  dpkg --purge gatehouse >/dev/null 2>&1 || true
  rm -rf "$work" /run/gatehouse-test
}
trap cleanup EXIT

if dpkg-query -W gatehouse >/dev/null 2>&1; then
  fail "a gatehouse package is already installed here; this test would replace and purge it"
fi

if [ $# -eq 0 ]; then
  if [ -n "${GATEHOUSE_TEST_EXECUTABLE:-}" ]; then set -- --binary "$GATEHOUSE_TEST_EXECUTABLE"; else set -- --fast; fi
fi
deb=$(packaging/deb/build.sh --out "$work" "$@" | tail -n1)
[ -f "$deb" ] || fail "build.sh printed no .deb path"
say "built $(basename "$deb")"

# The archive: what it holds, and the control fields.
contents=$(dpkg-deb --contents "$deb")
for path in ./usr/bin/gatehouse ./usr/lib/systemd/system/gatehouse.service ./etc/gatehouse/proxy.hcl \
  ./etc/gatehouse/gatehouse.env ./usr/share/doc/gatehouse/copyright; do
  grep -q " $path\$" <<<"$contents" || fail "$path is not in the package"
done
grep -q '^-rwxr-xr-x root/root .* ./usr/bin/gatehouse$' <<<"$contents" || fail "/usr/bin/gatehouse is not root-owned 0755"
[ "$(dpkg-deb --field "$deb" Package)" = gatehouse ] || fail "Package is not gatehouse"

dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
say "installed"

version=$(/usr/bin/gatehouse version) || fail "gatehouse version exited $?"
[[ "$version" == Gatehouse\ v* ]] || fail "gatehouse version printed \"$version\""
say "gatehouse version: $version"

getent passwd gatehouse >/dev/null || fail "no gatehouse user"
getent group gatehouse >/dev/null || fail "no gatehouse group"
[ "$(getent passwd gatehouse | cut -d: -f7)" = /usr/sbin/nologin ] || fail "the gatehouse user has a login shell"
check_mode() {
  local got
  got=$(stat -c '%a %U:%G' "$1")
  [ "$got" = "$2" ] || fail "$1 is $got, expected $2"
}
check_mode /etc/gatehouse "750 root:gatehouse"
check_mode /etc/gatehouse/proxy.hcl "640 root:gatehouse"
check_mode /etc/gatehouse/gatehouse.env "640 root:gatehouse"
check_mode /var/lib/gatehouse "700 gatehouse:gatehouse"

unit=/usr/lib/systemd/system/gatehouse.service
grep -qx 'EnvironmentFile=-/etc/gatehouse/gatehouse.env' "$unit" || fail "the unit has no EnvironmentFile=-/etc/gatehouse/gatehouse.env"
grep -qx 'ExecStart=/usr/bin/gatehouse proxy -config=/etc/gatehouse/proxy.hcl' "$unit" || fail "the unit does not start /usr/bin/gatehouse"
grep -qx 'RuntimeDirectory=gatehouse' "$unit" || fail "the unit has no RuntimeDirectory=gatehouse"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; fail "systemd-analyze verify $unit"; }
  say "systemd-analyze verify: ok"
else
  say "systemd-analyze not found: the unit was checked by its lines only"
fi

# The sample, as the service user would read it.
as_service() { setpriv --reuid gatehouse --regid gatehouse --init-groups -- "$@"; }
as_service /usr/bin/gatehouse validate -config=/etc/gatehouse/proxy.hcl >"$work/validate.log" 2>&1 \
  || { cat "$work/validate.log" >&2; fail "the sample /etc/gatehouse/proxy.hcl does not validate"; }
say "sample configuration: valid"

# Served: the sample with its TCP port made free (8100 may be taken here) and its socket in a test directory,
# started as the unit starts it (user gatehouse, the env file's variables); health answers on the socket.
install -d -m 0750 -o gatehouse -g gatehouse /run/gatehouse-test
sed -e 's/127\.0\.0\.1:8100/127.0.0.1:0/' -e 's:/run/gatehouse/gatehouse.sock:/run/gatehouse-test/gatehouse.sock:' \
  /etc/gatehouse/proxy.hcl >"$work/proxy.hcl"
chmod 0644 "$work/proxy.hcl"
chmod 0755 "$work"
printf 'VAULT_ADDR=http://127.0.0.1:1\nVAULT_LOG_FORMAT=json\n' >>/etc/gatehouse/gatehouse.env
(
  set -a
  # shellcheck disable=SC1091
  . /etc/gatehouse/gatehouse.env
  set +a
  exec setpriv --reuid gatehouse --regid gatehouse --init-groups -- /usr/bin/gatehouse proxy -config="$work/proxy.hcl"
) >"$work/out.log" 2>"$work/err.log" &
pid=$!
for _ in $(seq 1 200); do
  [ -S /run/gatehouse-test/gatehouse.sock ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err.log" >&2; fail "gatehouse proxy exited at start"; }
  sleep 0.1
done
[ -S /run/gatehouse-test/gatehouse.sock ] || { cat "$work/err.log" >&2; fail "no socket after 20 s"; }
[ "$(stat -c %U /run/gatehouse-test/gatehouse.sock)" = gatehouse ] || fail "the socket is not the gatehouse user's"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket /run/gatehouse-test/gatehouse.sock http://localhost/agent/v1/health?standbyok=true) || true
[[ "$code" =~ ^(200|503)$ ]] || fail "health on the socket answered \"$code\""
kill -TERM "$pid"
wait "$pid" || fail "gatehouse proxy exited $? on SIGTERM"
pid=""
# The env file was read: VAULT_LOG_FORMAT=json made every line of the run JSON.
grep -q '"@message":"shutdown complete"' "$work/err.log" || { cat "$work/err.log" >&2; fail "no JSON shutdown line: the env file was not applied"; }
say "served the sample as the gatehouse user (health $code over the socket), stopped cleanly"

dpkg --purge gatehouse >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg --purge"; }
[ ! -e /usr/bin/gatehouse ] || fail "/usr/bin/gatehouse is left after purge"
say "passed"
