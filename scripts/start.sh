#!/usr/bin/env bash
# The README's start command: installs, builds the web app, and starts one server process on the
# embedded defaults (SQLite in ./data) serving the app at http://localhost:8787 (PORT, DATA_DIR override).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
pnpm install --frozen-lockfile
pnpm build:web
export DATA_DIR="${DATA_DIR:-$PWD/data}"
exec pnpm start
