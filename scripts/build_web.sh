#!/usr/bin/env bash
# The dashboard's front-end libraries, from the npm registry: `npm ci` in web/ (exact versions
# from web/package-lock.json), then the files the page loads are copied into
# src/tweetpipe/dashboard/static/vendor/ (git-ignored), from where tweetpipe serves them: the
# dashboard never loads anything from a CDN. Installs Node.js and npm from the distribution
# when they are missing (as root, with apt-get). Idempotent; quiet unless something fails.
set -euo pipefail
cd "$(dirname "$0")/.."
WEB=web
VENDOR=src/tweetpipe/dashboard/static/vendor

if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
  else
    echo "build_web: npm is missing: install Node.js and npm (e.g. sudo apt-get install nodejs npm)" >&2
    exit 1
  fi
fi

# Node trusts only its own certificate list; trust the system's too (a network's own
# certificate authority, e.g. a TLS-inspecting proxy in front of the registry).
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

(cd "$WEB" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

rm -rf "$VENDOR" && mkdir -p "$VENDOR"
dist=$WEB/node_modules/chart.js/dist
cp "$dist/chart.umd.min.js" "$VENDOR/"
cp "$WEB/node_modules/chart.js/LICENSE.md" "$VENDOR/chart.js.LICENSE.md"
version=$(node -p 'require("./'"$WEB"'/node_modules/chart.js/package.json").version')
echo "chart.js $version (npm, web/package-lock.json)" > "$VENDOR/VERSION.txt"
echo "build_web: chart.js $version in $VENDOR"
