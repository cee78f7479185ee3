# Shared helpers for the scripts in deploy/dev (sourced, not run).
# shellcheck shell=bash

# The repository root, whatever the caller's working directory.
EM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${EM_VENV:-$EM_ROOT/.venv}"
VPY="$VENV/bin/python"

is_ci() { [ "${CI:-}" = "true" ]; }
is_root() { [ "$(id -u)" = "0" ]; }

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    _B=$'\033[1m' _G=$'\033[32m' _R=$'\033[31m' _Y=$'\033[33m' _C=$'\033[36m' _N=$'\033[0m'
else
    _B="" _G="" _R="" _Y="" _C="" _N=""
fi

heading() { printf '\n%s==> %s%s\n' "$_B$_C" "$*" "$_N"; }
info() { printf '    %s\n' "$*"; }
ok() { printf '%s    ok: %s%s\n' "$_G" "$*" "$_N"; }
warn() { printf '%s    warning: %s%s\n' "$_Y" "$*" "$_N" >&2; }
fail() { printf '%s    error: %s%s\n' "$_R" "$*" "$_N" >&2; }

# apt-get install, non-interactively, refreshing the package lists once per script run.
_APT_UPDATED=""
apt_install() {
    if [ -z "$_APT_UPDATED" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null
}
