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
# promtool, for the alert rules' checks and unit tests (apps/server/test/deploy.test.ts): taken out of
# Debian's prometheus package WITHOUT installing it (no service starts, nothing outside .cache/), so
# .cache/promtool/usr/bin/promtool is what the test finds when neither PROMTOOL nor a promtool on PATH is
PROMTOOL_CACHED=.cache/promtool/usr/bin/promtool
if [ -z "${PROMTOOL:-}" ] && ! command -v promtool >/dev/null && [ ! -x "$PROMTOOL_CACHED" ] &&
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
  echo "[converge] extracting promtool from Debian's prometheus package into .cache/promtool"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  deb_dir=$(mktemp -d)
  # only the one binary is kept: the package's web assets (JavaScript) would only be linted
  { (cd "$deb_dir" && apt-get download -qq prometheus 2>/dev/null) ||
    { $SUDO apt-get update -qq && (cd "$deb_dir" && apt-get download -qq prometheus); }; } &&
    dpkg-deb -x "$deb_dir"/prometheus_*.deb "$deb_dir/root" &&
    install -D -m 755 "$deb_dir/root/usr/bin/promtool" "$PROMTOOL_CACHED" &&
    "$PROMTOOL_CACHED" --version >/dev/null ||
    echo "[converge] WARNING: could not get promtool — the alert rules' tests will be skipped (CI=true: they fail)"
  rm -rf "$deb_dir"
fi
source scripts/ensure-services.sh
pnpm install --frozen-lockfile
pnpm test
pnpm test:e2e
echo "[converge] all tests passed"
