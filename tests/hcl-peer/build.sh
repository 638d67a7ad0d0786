#!/usr/bin/env bash
# Builds tests/hcl-peer (HashiCorp's HCL1 parser as a batch JSON printer) and prints the binary's path.
# Offline and reproducible: GOPATH mode against Debian's golang-github-hashicorp-hcl-dev under /usr/share/gocode, no
# module downloads. The binary is cached under tests/hcl-peer/obj/<hash>/ by the hash of main.go, this script, the Go
# version and the installed hcl package version, so a warm call only checks (a few milliseconds).
# Exit 3, naming the install script, when Go or the hcl sources are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode
hcl_src=$gocode/src/github.com/hashicorp/hcl

missing() {
  echo "hcl-peer: $1 is not installed: run scripts/install-test-deps.sh (Debian golang-go and golang-github-hashicorp-hcl-dev)" >&2
  exit 3
}

go=$(command -v go || true)
[ -n "$go" ] || [ ! -x /usr/lib/go/bin/go ] || go=/usr/lib/go/bin/go
[ -n "$go" ] || missing "the Go toolchain (go)"
[ -f "$hcl_src/parse.go" ] || missing "hashicorp/hcl ($hcl_src)"

hcl_version=$(dpkg-query -W -f='${Version}' golang-github-hashicorp-hcl-dev 2>/dev/null || echo unknown)
hash=$( { cat "$here/main.go" "$here/build.sh"; "$go" version; echo "$hcl_version"; } | sha256sum | cut -c1-16)
out=$here/obj/$hash
binary=$out/hcl-peer
if [ ! -x "$binary" ]; then
  mkdir -p "$out"
  tmp=$(mktemp "$out/hcl-peer.XXXXXX")
  log=$(mktemp)
  trap 'rm -f "$tmp" "$log"' EXIT
  if ! (cd "$here" && GO111MODULE=off GOPATH=$gocode GOFLAGS= GOPROXY=off CGO_ENABLED=0 \
        GOCACHE="$here/obj/gocache" "$go" build -trimpath -o "$tmp" main.go) >"$log" 2>&1; then
    cat "$log" >&2
    echo "hcl-peer: go build failed" >&2
    exit 1
  fi
  mv -f "$tmp" "$binary"
  # Older builds (another main.go, Go or hcl version) are never used again.
  find "$here/obj" -mindepth 1 -maxdepth 1 -type d ! -name gocache ! -name "$hash" -exec rm -rf {} +
fi
echo "$binary"
