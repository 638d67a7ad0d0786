#!/usr/bin/env bash
# Builds tests/helm-render (a `helm template` stand-in: Go's text/template with Sprig, each rendered document printed
# as JSON) and prints the binary's path. Offline and reproducible: GOPATH mode against Debian's
# golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev under /usr/share/gocode, no module downloads. The
# binary is cached under tests/helm-render/obj/<hash>/ by the hash of main.go, this script, the Go version and the
# installed package versions, so a warm call only checks (a few milliseconds).
# Exit 3, naming the install script, when Go or the sources are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode

missing() {
  echo "helm-render: $1 is not installed: run scripts/install-test-deps.sh (Debian golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev)" >&2
  exit 3
}

go=$(command -v go || true)
[ -n "$go" ] || [ ! -x /usr/lib/go/bin/go ] || go=/usr/lib/go/bin/go
[ -n "$go" ] || missing "the Go toolchain (go)"
[ -f "$gocode/src/github.com/Masterminds/sprig/functions.go" ] || missing "Masterminds/sprig ($gocode/src/github.com/Masterminds/sprig)"
[ -f "$gocode/src/gopkg.in/yaml.v3/yaml.go" ] || missing "gopkg.in/yaml.v3 ($gocode/src/gopkg.in/yaml.v3)"

versions=$(dpkg-query -W -f='${Version} ' golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev 2>/dev/null || echo unknown)
hash=$( { cat "$here/main.go" "$here/build.sh"; "$go" version; echo "$versions"; } | sha256sum | cut -c1-16)
out=$here/obj/$hash
binary=$out/helm-render
if [ ! -x "$binary" ]; then
  mkdir -p "$out"
  tmp=$(mktemp "$out/helm-render.XXXXXX")
  log=$(mktemp)
  trap 'rm -f "$tmp" "$log"' EXIT
  if ! (cd "$here" && GO111MODULE=off GOPATH=$gocode GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
        GOCACHE="$here/obj/gocache" "$go" build -trimpath -o "$tmp" main.go) >"$log" 2>&1; then
    cat "$log" >&2
    echo "helm-render: go build failed" >&2
    exit 1
  fi
  mv -f "$tmp" "$binary"
  # Older builds (another main.go, Go or package version) are never used again.
  find "$here/obj" -mindepth 1 -maxdepth 1 -type d ! -name gocache ! -name "$hash" -exec rm -rf {} +
fi
echo "$binary"
