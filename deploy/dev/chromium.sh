#!/usr/bin/env bash
# Debian's Chromium, for the browser tests (Playwright with executablePath /usr/bin/chromium).
# Installs it when missing, as root (or in CI with password-less sudo); prints its path on stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

find_chromium() { command -v chromium || command -v chromium-browser || true; }

path="$(find_chromium)"
if [ -z "$path" ]; then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        info "Chromium is not installed: apt-get install -y chromium" >&2
        apt_install chromium >&2
    elif is_ci && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        info "Chromium is not installed: sudo apt-get install -y chromium" >&2
        sudo -n apt-get update -qq >&2 && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    else
        fail "Chromium is not installed. On Debian: sudo apt-get update && sudo apt-get install -y chromium"
        exit 1
    fi
    path="$(find_chromium)"
fi
if [ -z "$path" ]; then
    fail "Chromium was installed but is not on PATH"
    exit 1
fi
echo "$path"
