#!/usr/bin/env bash
# The README's test command: installs everything the tests need on a fresh machine, then runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
export CI="${CI:-}"
pnpm install --frozen-lockfile
pnpm test
