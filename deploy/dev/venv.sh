#!/usr/bin/env bash
# Create .venv if missing and `pip install -e '.[EXTRAS]'` into it, only when pyproject.toml changed
# since the last install (a stamp file inside .venv records what was installed).
#
#   deploy/dev/venv.sh server        # what `make run` needs
#   deploy/dev/venv.sh server,dev    # what `make test` needs
#
# PYTHON picks the interpreter for a new venv (default python3, must be 3.11+); EM_VENV moves the venv.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EM_ROOT"

want_extras="${1:-server}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.em-install-stamp"

create_venv() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        fail "$PYTHON not found. Install Python 3.11+ (Debian: apt-get install -y python3 python3-venv)."
        return 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        fail "EM needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1). Set PYTHON=/path/to/python3.11."
        return 1
    fi
    info "creating $VENV with $("$PYTHON" -V 2>&1) ($(command -v "$PYTHON"))"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        # Debian splits venv/ensurepip into python3-venv.
        if is_root && { is_ci || [ -f /etc/debian_version ]; } && command -v apt-get >/dev/null; then
            warn "python3 -m venv failed; installing Debian's python3-venv"
            apt_install python3-venv
            "$PYTHON" -m venv "$VENV"
        else
            fail "python3 -m venv failed. On Debian: sudo apt-get install -y python3-venv"
            return 1
        fi
    fi
    "$VPY" -m pip install --quiet --upgrade pip
}

if [ ! -x "$VPY" ] || ! "$VPY" -c 'import pip' >/dev/null 2>&1; then
    create_venv
fi

digest="$("$VPY" -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
have_digest="" have_extras=""
if [ -f "$STAMP" ]; then
    read -r have_digest have_extras <"$STAMP" || true
fi

# The extras to install: those asked for, plus those already installed (one install covers both).
extras="$(printf '%s\n' "${want_extras//,/ }" "${have_extras//,/ }" | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
missing=""
for extra in ${want_extras//,/ }; do
    case ",$have_extras," in *",$extra,"*) ;; *) missing="$missing $extra" ;; esac
done

if [ "$digest" = "$have_digest" ] && [ -z "$missing" ]; then
    ok "$VENV is up to date with pyproject.toml (extras: $have_extras)"
    exit 0
fi
if [ "$digest" != "$have_digest" ]; then
    extras="$want_extras"  # pyproject.toml changed: install afresh what is asked for
    [ -n "$have_digest" ] && info "pyproject.toml changed since the last install"
fi
info "pip install -e '.[$extras]'"
"$VPY" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
printf '%s %s\n' "$digest" "$extras" >"$STAMP"
ok "installed EM with extras [$extras] into $VENV"
