#!/usr/bin/env bash
# `make run`: the embedded default on one machine. SQLite and files under .em-data/, tasks in-process.
#   venv + pip install -e '.[server]' (when pyproject.toml changed), the portal's build (npm ci when
#   package-lock.json changed, npm run build), migrate, collectstatic, seed_demo, then Django's dev server
#   on HOST:PORT (default 127.0.0.1:8000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EM_ROOT"

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-em.settings.base}"
case "$HOST" in *:*) URL="http://[$HOST]:$PORT/" ;; *) URL="http://$HOST:$PORT/" ;; esac

heading "Install: .venv with '.[server]'"
bash deploy/dev/venv.sh server

heading "Portal: npm ci (when package-lock.json changed) + npm run build"
if ! bash deploy/dev/frontend.sh; then
    if [ -f frontend/static/frontend/app/manifest.json ]; then
        warn "could not rebuild the portal: serving the previous build"
    else
        warn "the portal is not built: the API works, and the page at $URL says how to build it"
    fi
fi

heading "Database: manage.py migrate  ($DJANGO_SETTINGS_MODULE)"
"$VPY" manage.py migrate --noinput

heading "Static files: manage.py collectstatic"
"$VPY" manage.py collectstatic --noinput --verbosity 0
ok "collected"

heading "Demo data: manage.py seed_demo"
"$VPY" manage.py seed_demo

cat <<BANNER

${_B}${_G}  ================================================================
    EM is starting at   $URL
    Sign in as          demo / demo
    API docs            ${URL}api/docs/
    Stop with           Ctrl-C
  ================================================================${_N}

BANNER

exec "$VPY" manage.py runserver "$HOST:$PORT"
