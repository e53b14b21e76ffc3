#!/usr/bin/env bash
# Installs pnpm 10 when it is missing (corepack fails on this registry: see ../shared/TOOLCHAIN-NOTES.md).
if ! command -v pnpm >/dev/null 2>&1 || ! pnpm --version 2>/dev/null | grep -q '^10\.'; then
  echo "[converge] installing pnpm@10 with npm"
  npm i -g pnpm@10 >/dev/null
fi
