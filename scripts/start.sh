#!/usr/bin/env bash
# The README's start command: installs, builds the web app and the server, and starts one server
# process on the embedded defaults (SQLite in ./data) serving the app at http://localhost:8787
# (PORT, HOST, DATA_DIR override). A second run skips what has not changed: the install when
# pnpm-lock.yaml (and the package.json files) are as at the last install, each build when its sources
# are as at its last build (hashes kept in node_modules/.cache/converge-start). FORCE=1 redoes all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh

STAMPS=node_modules/.cache/converge-start
say() { echo "[converge] $*"; }
key() { node scripts/tree-hash.js "$@"; }
fresh() { [[ "${FORCE:-}" != 1 && -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp() { mkdir -p "$STAMPS" && echo "$2" >"$STAMPS/$1"; }

# the install: the lockfile, the workspace and every package.json
install_key=$(key pnpm-lock.yaml pnpm-workspace.yaml package.json apps/*/package.json packages/*/package.json \
  bench/package.json e2e/package.json "$(node --version)")
if [[ -d node_modules/.pnpm ]] && fresh install "$install_key"; then
  say "dependencies up to date (pnpm-lock.yaml unchanged since the last install)"
else
  pnpm install --frozen-lockfile
  stamp install "$install_key"
fi

# the packages both builds bundle
shared=(tsconfig.base.json packages/*/src packages/*/package.json)

web_key=$(key "$install_key" apps/web/src apps/web/public apps/web/index.html apps/web/package.json \
  apps/web/vite.config.ts apps/web/precompress.ts apps/web/tsconfig.json apps/web/tsconfig.src.json "${shared[@]}")
if [[ -f apps/web/dist/index.html ]] && fresh web "$web_key"; then
  say "web app up to date (apps/web/dist)"
else
  pnpm build:web
  stamp web "$web_key"
fi

server_key=$(key "$install_key" apps/server/src apps/server/build.ts apps/server/package.json "${shared[@]}")
if [[ -f apps/server/dist/main.mjs ]] && fresh server "$server_key"; then
  say "server up to date (apps/server/dist)"
else
  pnpm --filter @converge/server build
  stamp server "$server_key"
fi

export DATA_DIR="${DATA_DIR:-$PWD/data}"
# what `pnpm start` runs after its build; prints "Converge is running: open http://…" once listening
cd apps/server
exec node dist/main.mjs
