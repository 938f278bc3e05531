#!/usr/bin/env bash
# Copy the front-end libraries from the npm registry into static/vendor (served locally, no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "vendor: installing Node.js and npm from Debian packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "vendor: npm is missing; install it with: sudo apt-get install nodejs npm" >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund --silent
mkdir -p static/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
cp node_modules/socket.io-client/dist/socket.io.min.js.map static/vendor/ 2>/dev/null || true
cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/
# Versions come from the installed package.json files: require("chart.js/package.json")
# fails on packages whose "exports" do not list it (chart.js 4).
version() { node -p "JSON.parse(require('fs').readFileSync('node_modules/$1/package.json', 'utf8')).version"; }
echo "vendor: socket.io-client $(version socket.io-client), chart.js $(version chart.js)"
