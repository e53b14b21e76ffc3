#!/usr/bin/env bash
# The README's start command: installs, then starts what exists on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
pnpm install --frozen-lockfile
pnpm demo
