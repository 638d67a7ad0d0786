#!/usr/bin/env bash
# Installs what the real-client tests (tests/Gatehouse.IntegrationTests/RealClients) run, and nothing else:
#   - Debian's python3-hvac, for Debian's /usr/bin/python3 (not a pyenv or venv python);
#   - Node.js and npm from Debian, only when `node` or `npm` is not on PATH;
#   - node-vault and its dependencies, exactly as tests/clients/node/package-lock.json pins them (`npm ci`);
# and what the HCL differential tests (tests/Gatehouse.Hcl.Tests/Differential) build their Go peer with:
#   - Debian's golang-go (Go 1.19) and golang-github-hashicorp-hcl-dev (hashicorp/hcl 1.0.0, Vault's HCL1 parser,
#     under /usr/share/gocode), built offline by tests/hcl-peer/build.sh;
# and what the Helm chart tests (tests/Gatehouse.Tests/Packaging/HelmChartTests) render the chart with:
#   - Debian's golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev, built offline with golang-go by
#     tests/helm-render/build.sh (a `helm template` stand-in: Helm itself needs a newer Go than Debian's);
# and what the Debian package test (tests/deb/run.sh) checks with:
#   - curl (health over the unix socket) and systemd (systemd-analyze verify of the unit), when not on PATH;
# and what the alert-rule tests (tests/Gatehouse.Tests/Packaging) check packaging/prometheus with:
#   - Debian's prometheus, for promtool (`promtool check rules`, `promtool test rules`);
# and what the kerberos auto-auth tests (tests/Gatehouse.IntegrationTests/Support/MitKdc) run a throwaway realm with:
#   - Debian's krb5-kdc (krb5kdc, kdb5_util) and krb5-admin-server (kadmin.local); the daemon itself needs only
#     libgssapi-krb5-2, which the .NET runtime's dependencies already bring.
# and what the shared-store tests (tests/Shared/RedisServer.cs: cache { shared "redis" }) start:
#   - Debian's redis-server, run by the tests themselves on a random loopback port (the package's own service, if
#     any, is left as Debian sets it up).
# and what the Native AOT publish of scripts/test-published.sh (the shipped form, docs/packaging.md) links with:
#   - Debian's clang (the `clang` command; the SDK's ILCompiler calls it as the linker) and zlib1g-dev.
# Idempotent and quiet: when everything is in place it only checks (a few milliseconds) and prints nothing.
# `apt-get update` runs only when apt knows no candidate for a missing package (a fresh machine or container).
# Needs root, or sudo, only when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

node_dir=tests/clients/node
say_as=install-test-deps
# shellcheck source=lib/apt.sh
. scripts/lib/apt.sh

debs=()
installed python3-hvac || debs+=(python3-hvac)
command -v node >/dev/null 2>&1 || debs+=(nodejs)
command -v npm >/dev/null 2>&1 || debs+=(npm)
installed golang-go || debs+=(golang-go)
installed golang-github-hashicorp-hcl-dev || debs+=(golang-github-hashicorp-hcl-dev)
command -v curl >/dev/null 2>&1 || debs+=(curl)
command -v systemd-analyze >/dev/null 2>&1 || debs+=(systemd)
installed golang-github-masterminds-sprig-dev || debs+=(golang-github-masterminds-sprig-dev)
installed golang-gopkg-yaml.v3-dev || debs+=(golang-gopkg-yaml.v3-dev)
command -v promtool >/dev/null 2>&1 || debs+=(prometheus)
installed krb5-kdc || debs+=(krb5-kdc)
installed krb5-admin-server || debs+=(krb5-admin-server)
[ -x /usr/bin/redis-server ] || debs+=(redis-server)
command -v clang >/dev/null 2>&1 || debs+=(clang)
installed zlib1g-dev || debs+=(zlib1g-dev)

if [ "${#debs[@]}" -gt 0 ]; then
  apt_install "${debs[@]}"
  quietly /usr/bin/python3 -c 'import hvac'
fi

# node_modules is current when it was installed from this very package-lock.json.
stamp="$node_dir/node_modules/.gatehouse-lock.sha256"
want=$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "npm ci in $node_dir"
  quietly npm ci --prefix "$node_dir" --no-audit --no-fund --ignore-scripts --loglevel=error
  quietly node -e "require('./$node_dir/node_modules/node-vault')"
  echo "$want" >"$stamp"
fi
