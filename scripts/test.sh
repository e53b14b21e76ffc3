#!/usr/bin/env bash
# The README's test command: installs everything the tests need on a fresh machine, then runs them all:
# format, types, lint, import cycles, every package's tests (the scale-out ones against real PostgreSQL
# and Redis), then the Playwright suite in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
if [ ! -x /usr/bin/chromium ] && [ ! -x /usr/bin/chromium-browser ]; then
  echo "[converge] installing Debian's Chromium for the end-to-end tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
source scripts/ensure-services.sh
pnpm install --frozen-lockfile
pnpm test
pnpm test:e2e
echo "[converge] all tests passed"
