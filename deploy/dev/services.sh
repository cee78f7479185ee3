#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer, for the integration pass of `make test`.
#
# Reads EM_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/em) and EM_TEST_REDIS_URL
# (default redis://127.0.0.1:6379/15). A local service that is installed but stopped is started; one that
# is not installed is installed with apt-get in CI (CI=true) when running as root. Otherwise this prints
# how to get it.
#
# Exit status: 0 both services are ready; 2 a service is missing outside CI (the caller skips the
# integration pass); 1 a service is missing in CI, or another hard failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_URL="${EM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/em}"
REDIS_URL="${EM_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
# Any Python will do for the probes; the venv's has psycopg for the login check.
if [ -x "$VPY" ]; then PY="$VPY"; else PY="python3"; fi

url_part() {  # url_part URL host|port|db|user DEFAULT_PORT
    "$PY" - "$1" "$2" "$3" <<'PYEOF'
import sys
from urllib.parse import urlsplit

url, part, default_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urlsplit(url)
print({"host": u.hostname or "127.0.0.1", "port": u.port or default_port,
       "db": u.path.lstrip("/"), "user": u.username or ""}[part])
PYEOF
}

PG_HOST="$(url_part "$PG_URL" host 5432)"
PG_PORT="$(url_part "$PG_URL" port 5432)"
PG_DB="$(url_part "$PG_URL" db 5432)"
REDIS_HOST="$(url_part "$REDIS_URL" host 6379)"
REDIS_PORT="$(url_part "$REDIS_URL" port 6379)"

is_local() { case "$1" in 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac; }

# --- probes: the clients when present, else a plain socket handshake ------------------------------
pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
        return
    fi
    "$PY" - "$PG_HOST" "$PG_PORT" <<'PYEOF'
import socket, struct, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:
        s.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest: a server answers S or N
        sys.exit(0 if s.recv(1) in (b"S", b"N") else 1)
except OSError:
    sys.exit(1)
PYEOF
}

redis_up() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
        return
    fi
    "$PY" - "$REDIS_HOST" "$REDIS_PORT" <<'PYEOF'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PYEOF
}

wait_for() {  # wait_for PROBE SECONDS
    local i
    for ((i = 0; i < $2; i++)); do
        "$1" && return 0
        sleep 1
    done
    return 1
}

# --- PostgreSQL ------------------------------------------------------------------------------------
pg_clusters() { ls /etc/postgresql 2>/dev/null; }
pg_installed() { command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(pg_clusters)" ]; }

pg_how_to() {
    cat >&2 <<HOWTO
    To get PostgreSQL on Debian (as root):
        apt-get update && apt-get install -y postgresql
        pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
    and let the tests sign in without a password from 127.0.0.1 (a test machine only), in a first line:
        sed -i '1i host all all 127.0.0.1/32 trust' /etc/postgresql/\$(ls /etc/postgresql)/main/pg_hba.conf
        pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main reload
    Or point the tests at another server: EM_TEST_DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/em
HOWTO
}

pg_start() {
    local version
    for version in $(pg_clusters); do
        [ -d "/etc/postgresql/$version/main" ] || continue
        info "starting PostgreSQL $version: pg_ctlcluster --skip-systemctl-redirect $version main start"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    wait_for pg_up 30
}

# Can the tests sign in as the URL says? Prints the server's refusal when not.
pg_login() {
    if "$PY" -c 'import psycopg' >/dev/null 2>&1; then
        "$PY" - "$PG_URL" <<'PYEOF'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg

u = urlsplit(sys.argv[1])
try:
    psycopg.connect(urlunsplit(u._replace(scheme="postgresql", path="/postgres")), connect_timeout=5).close()
except psycopg.Error as exc:
    print(f"    {exc}".rstrip(), file=sys.stderr)
    sys.exit(1)
PYEOF
    elif command -v psql >/dev/null 2>&1; then
        psql "${PG_URL%/*}/postgres" -Atqc 'select 1' >/dev/null
    else
        return 0  # nothing to check with; the tests will tell
    fi
}

# On a CI machine PostgreSQL's own default (password auth over TCP) is relaxed to what the URL expects:
# trust for local connections, in lines put first so that they win over the stock ones.
pg_trust_localhost() {
    local version hba
    for version in $(pg_clusters); do
        hba="/etc/postgresql/$version/main/pg_hba.conf"
        [ -f "$hba" ] || continue
        if ! grep -q '^# em-ci:' "$hba"; then
            info "allowing password-less connections from localhost in $hba"
            sed -i '1i # em-ci: the test suite signs in without a password (a CI machine only)\
local all all trust\
host all all 127.0.0.1/32 trust\
host all all ::1/128 trust' "$hba"
        fi
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    done
    sleep 1
}

pg_create_db() {
    [ -n "$PG_DB" ] || return 0
    "$PY" -c 'import psycopg' >/dev/null 2>&1 || return 0
    "$PY" - "$PG_URL" "$PG_DB" <<'PYEOF'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

u = urlsplit(sys.argv[1])
with psycopg.connect(urlunsplit(u._replace(scheme="postgresql", path="/postgres")), autocommit=True) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [sys.argv[2]]).fetchone() is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(sys.argv[2])))
        print(f"    created database {sys.argv[2]}")
PYEOF
}

ensure_postgres() {
    if pg_up; then
        ok "PostgreSQL answers at $PG_HOST:$PG_PORT"
    elif ! is_local "$PG_HOST"; then
        fail "PostgreSQL does not answer at $PG_HOST:$PG_PORT (EM_TEST_DATABASE_URL)"
        return 1
    elif pg_installed; then
        info "PostgreSQL is installed but not running"
        if pg_start; then
            ok "PostgreSQL started"
        else
            fail "could not start PostgreSQL (are you root?)"
            pg_how_to
            return 1
        fi
    elif is_ci && is_root; then
        info "PostgreSQL is not installed; CI=true and root: apt-get install -y postgresql"
        apt_install postgresql || { fail "apt-get install postgresql failed"; return 1; }
        pg_installed || { fail "no PostgreSQL cluster after installing"; return 1; }
        pg_up || pg_start || { fail "PostgreSQL was installed but does not start"; return 1; }
        pg_trust_localhost
        ok "PostgreSQL installed and started"
    else
        fail "PostgreSQL is not installed"
        pg_how_to
        return 1
    fi
    if ! pg_login; then
        if is_ci && is_root && is_local "$PG_HOST" && pg_installed; then
            pg_trust_localhost
            pg_login || { fail "cannot sign in to PostgreSQL as $PG_URL"; return 1; }
        else
            fail "PostgreSQL answers but refuses to let the tests sign in with $PG_URL"
            pg_how_to
            return 1
        fi
    fi
    pg_create_db || warn "could not create database $PG_DB (the tests create their own test_ database anyway)"
}

# --- Redis -----------------------------------------------------------------------------------------
redis_how_to() {
    cat >&2 <<'HOWTO'
    To get Redis on Debian (as root):
        apt-get update && apt-get install -y redis-server
        mkdir -p /var/lib/redis /var/log/redis
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log
    Or point the tests at another server: EM_TEST_REDIS_URL=redis://HOST:PORT/15
HOWTO
}

redis_start() {
    local dir=/var/lib/redis log=/var/log/redis/ci.log
    if ! mkdir -p "$dir" /var/log/redis 2>/dev/null || [ ! -w "$dir" ] || [ ! -w /var/log/redis ]; then
        dir="${TMPDIR:-/tmp}/em-redis-$(id -u)" log="$dir/redis.log"  # not root: keep it in our own space
        mkdir -p "$dir"
    fi
    info "starting Redis: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $REDIS_PORT --dir $dir"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
        --dir "$dir" --logfile "$log" || return 1
    wait_for redis_up 15
}

ensure_redis() {
    if redis_up; then
        ok "Redis answers at $REDIS_HOST:$REDIS_PORT"
    elif ! is_local "$REDIS_HOST"; then
        fail "Redis does not answer at $REDIS_HOST:$REDIS_PORT (EM_TEST_REDIS_URL)"
        return 1
    elif command -v redis-server >/dev/null 2>&1; then
        info "Redis is installed but not running"
        if redis_start; then
            ok "Redis started"
        else
            fail "could not start Redis"
            redis_how_to
            return 1
        fi
    elif is_ci && is_root; then
        info "Redis is not installed; CI=true and root: apt-get install -y redis-server"
        apt_install redis-server || { fail "apt-get install redis-server failed"; return 1; }
        # Debian's package may have started its own server already.
        redis_up || wait_for redis_up 3 || redis_start || { fail "Redis was installed but does not start"; return 1; }
        ok "Redis installed and started"
    else
        fail "Redis is not installed"
        redis_how_to
        return 1
    fi
}

status=0
ensure_postgres || status=1
ensure_redis || status=1
if [ "$status" -ne 0 ]; then
    if is_ci; then
        fail "CI=true: the integration pass needs PostgreSQL and Redis, and cannot run without them"
        exit 1
    fi
    exit 2
fi
exit 0
