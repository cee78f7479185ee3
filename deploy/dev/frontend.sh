#!/usr/bin/env bash
# The web portal's build: `npm ci` in frontend/ when package-lock.json changed since the last install
# (a stamp inside node_modules records it, like the venv's), then `npm run build` (typecheck + Vite),
# which writes frontend/static/frontend/app/ with the manifest Django's page reads. The build is skipped
# when nothing it is made from (src/, the configs, the lock file) changed since the last one.
#
#   deploy/dev/frontend.sh           install if needed, then build
#   deploy/dev/frontend.sh install   install only (the test stage then typechecks and runs Vitest)
#
# Needs Node.js 20.19+ with npm (https://nodejs.org/ or your distribution's nodejs 20+ package).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EM_ROOT/frontend"

STAMP="node_modules/.em-install-stamp"

if ! command -v npm >/dev/null 2>&1; then
    fail "npm is missing: install Node.js 20.19+ with npm (https://nodejs.org/), then run this again."
    exit 2
fi

digest="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ]; then
    ok "frontend/node_modules is up to date with package-lock.json"
else
    info "npm ci (package-lock.json changed since the last install)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$digest" >"$STAMP"
    ok "installed the portal's packages ($(node --version))"
fi

[ "${1:-build}" = "build" ] || exit 0
# What the last build was made from (beside the install stamp: the build directory is served).
BUILD_STAMP="node_modules/.em-build-stamp"
sources="$(find src package-lock.json tsconfig.json vite.config.ts -type f -print0 | sort -z | xargs -0 sha256sum |
    sha256sum | cut -d' ' -f1)"
if [ -f static/frontend/app/manifest.json ] && [ -f "$BUILD_STAMP" ] && [ "$(cat "$BUILD_STAMP")" = "$sources" ]; then
    ok "the portal's build is up to date with frontend/src"
    exit 0
fi
info "npm run build"
npm run build --silent -- --logLevel warn
echo "$sources" >"$BUILD_STAMP"
ok "built the portal into frontend/static/frontend/app/"
