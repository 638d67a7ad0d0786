#!/usr/bin/env bash
# Builds the Gatehouse Debian package with dpkg-deb (no debhelper, no network):
#   /usr/bin/gatehouse                          the Native AOT binary (publish profile linux-x64 or linux-arm64)
#   /usr/lib/systemd/system/gatehouse.service   packaging/systemd/gatehouse.service, ExecStart pointed at /usr/bin
#   /etc/gatehouse/proxy.hcl                    a sample configuration (conffile)
#   /etc/gatehouse/gatehouse.env                VAULT_* and key_env_var variables for the unit (conffile, 0640)
#   /usr/share/doc/gatehouse/                   copyright, operations.md, packaging.md
# postinst creates the `gatehouse` system user and group, /etc/gatehouse and /var/lib/gatehouse; the unit's
# RuntimeDirectory= creates /run/gatehouse (the unix socket directory) at each start. See docs/packaging.md.
#
# Usage: packaging/deb/build.sh [--binary FILE | --fast] [--rid linux-x64|linux-arm64] [--version V] [--out DIR]
#   --binary   package this already-published gatehouse binary instead of running `dotnet publish`
#   --fast     publish a JIT single file instead of Native AOT (no clang needed, a couple of minutes less on 2 cores;
#              140 MB, slower start, more memory): for tests, not releases
#   --rid      the .NET runtime identifier to publish for (default linux-x64; linux-arm64 gives an arm64 package: on
#              an arm64 machine, or from x64 with the cross toolchain docs/packaging.md names)
#   --version  the package version (default: <Version> of src/Gatehouse/Gatehouse.csproj)
#   --out      where the .deb is written (default artifacts/deb); its path is the last line printed
set -euo pipefail
cd "$(dirname "$0")/../.."

binary=""
rid="linux-x64"
version=""
out="artifacts/deb"
publish_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --fast) publish_args+=(-p:PublishAot=false -p:SelfContained=true -p:PublishSingleFile=true -p:PublishReadyToRun=false
              -p:IncludeNativeLibrariesForSelfExtract=true -p:EnableCompressionInSingleFile=false); shift ;;
    --rid) rid="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build-deb: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done

case "$rid" in
  linux-x64) arch=amd64 ;;
  linux-arm64) arch=arm64 ;;
  *) echo "build-deb: unsupported --rid $rid; use linux-x64 or linux-arm64" >&2; exit 2 ;;
esac

command -v dpkg-deb >/dev/null 2>&1 || { echo "build-deb: dpkg-deb not found (Debian package dpkg)" >&2; exit 1; }

if [ -z "$version" ]; then
  version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' src/Gatehouse/Gatehouse.csproj | head -n1)
fi
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { echo "build-deb: \"$version\" is not a Debian version" >&2; exit 2; }

if [ -z "$binary" ]; then
  publish_dir="artifacts/publish/$rid"
  dotnet publish src/Gatehouse -p:PublishProfile="$rid" -p:PublishDir="$PWD/$publish_dir/" \
    ${publish_args[@]+"${publish_args[@]}"} -nologo -v:q >&2
  binary="$publish_dir/gatehouse"
fi
[ -f "$binary" ] || { echo "build-deb: no binary at $binary" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/gatehouse_${version}_${arch}"

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/etc/gatehouse" \
  "$root/usr/share/doc/gatehouse"
install -m 0755 "$binary" "$root/usr/bin/gatehouse"

# The one unit file of the repository, with the binary where the package puts it.
sed 's:^ExecStart=/usr/local/bin/gatehouse :ExecStart=/usr/bin/gatehouse :' packaging/systemd/gatehouse.service \
  >"$root/usr/lib/systemd/system/gatehouse.service"
grep -q '^ExecStart=/usr/bin/gatehouse ' "$root/usr/lib/systemd/system/gatehouse.service" \
  || { echo "build-deb: packaging/systemd/gatehouse.service has no ExecStart=/usr/local/bin/gatehouse line to rewrite" >&2; exit 1; }
chmod 0644 "$root/usr/lib/systemd/system/gatehouse.service"

install -m 0640 packaging/deb/proxy.hcl "$root/etc/gatehouse/proxy.hcl"
install -m 0640 packaging/deb/gatehouse.env "$root/etc/gatehouse/gatehouse.env"
install -m 0644 docs/operations.md docs/packaging.md "$root/usr/share/doc/gatehouse/"
install -m 0644 packaging/deb/copyright "$root/usr/share/doc/gatehouse/copyright"

for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$root/DEBIAN/$script"
done
printf '/etc/gatehouse/proxy.hcl\n/etc/gatehouse/gatehouse.env\n' >"$root/DEBIAN/conffiles"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

# Depends from what the binary links: the newest glibc symbol version it asks for (a Native AOT binary needs the glibc
# of the machine that built it: 2.34 from Debian 12), and libstdc++/libgcc only if it links them (the JIT single file
# does, Native AOT does not). objdump is binutils'; without it the old fixed list is used.
libc_dep="libc6 (>= 2.27)"
native_deps="libgcc-s1, libstdc++6, "
if command -v objdump >/dev/null 2>&1; then
  glibc=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
  [ -n "$glibc" ] && libc_dep="libc6 (>= $glibc)"
  needed=$(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')
  native_deps=""
  grep -q '^libgcc_s' <<<"$needed" && native_deps+="libgcc-s1, "
  grep -q '^libstdc++' <<<"$needed" && native_deps+="libstdc++6, "
fi
cat >"$root/DEBIAN/control" <<CONTROL
Package: gatehouse
Version: $version
Architecture: $arch
Maintainer: Gatehouse maintainers <gatehouse@localhost>
Installed-Size: $installed_size
Depends: $libc_dep, ${native_deps}libssl3 | libssl1.1, passwd
Recommends: ca-certificates
Suggests: libgssapi-krb5-2
Section: admin
Priority: optional
Description: Vault Agent/Proxy compatible daemon
 Gatehouse does what HashiCorp Vault Agent's API proxy and Vault Proxy do
 (auto-auth, token sinks, API proxy, lease cache) and reads their
 configuration files unchanged. Self-contained: no .NET runtime needed.
CONTROL

mkdir -p "$out"
deb="$out/gatehouse_${version}_${arch}.deb"
# Owned by root in the archive whoever builds it. gzip, not xz: xz took 1 min 45 s for the 140 MB binary here.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >&2
echo "$deb"
