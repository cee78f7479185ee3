#!/usr/bin/env bash
# The whole test suite, as `make test` (and CI, through .ci/run) runs it:
#
#   install   .venv with pip install -e '.[server,dev]' (skipped when pyproject.toml is unchanged)
#   portal    the web portal's build: npm ci (when package-lock.json changed) + npm run build
#   ruff      ruff check .
#   mypy      mypy .
#   imports   lint-imports: the contracts in pyproject.toml (layers import downwards only, and so on)
#   frontend  the portal's typecheck (tsc) and unit tests (Vitest)
#   chromium  Debian's Chromium for the browser tests: installed in CI (deploy/dev/chromium.sh); outside CI
#             a missing one is noted and the browser tests skip (`make chromium` installs it)
#   sqlite    pytest pass 1 on SQLite: -m "not postgres and not redis and not celery" (browser tests too)
#   services  deploy/dev/services.sh: PostgreSQL and Redis up (started, or installed in CI)
#   postgres  pytest pass 2, every test, on PostgreSQL + Redis
#
# `deploy/dev/test.sh ruff mypy` runs only the stages named. Every stage runs even when an earlier one
# failed (so one CI run shows everything); the exit status is that of the first failed stage.
# PYTEST_ARGS is passed to both pytest passes, e.g. PYTEST_ARGS="-x -k sharing".
# When both passes are asked for, pass 1 runs in the background beside the services stage and pass 2 (they
# share nothing: pass 1 has its own SQLite file and files dir and needs no service), so the two cores of a CI
# machine both work; its output is printed whole when it ends. EM_TEST_SERIAL=1 runs them one after the other.
# Outside CI a missing PostgreSQL or Redis skips pass 2 with a note; in CI (CI=true) it fails the run.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$EM_ROOT"

PG_URL="${EM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/em}"
REDIS_URL="${EM_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
# Split like a shell would, so that PYTEST_ARGS='-k "a and b"' keeps its quotes.
eval "pytest_args=(${PYTEST_ARGS:-})"
ALL_STAGES=(install portal ruff mypy imports frontend chromium sqlite services postgres)
if [ $# -gt 0 ]; then stages=("$@"); else stages=("${ALL_STAGES[@]}"); fi

# Tests choose their settings in pyproject.toml; a DJANGO_SETTINGS_MODULE in the caller's shell would win.
unset DJANGO_SETTINGS_MODULE

declare -a summary=()
first_failure=0
pass1_pid=""
PASS1_LABEL="Tests, pass 1: SQLite (no services)"
services_ready=""
skip_note=""
started=$SECONDS

record() {  # record STAGE STATUS SECONDS [CODE]
    summary+=("$(printf '%-42s %-8s %5ss' "$1" "$2" "$3")")
    if [ "$2" = "FAILED" ] && [ "$first_failure" -eq 0 ]; then first_failure="${4:-1}"; fi
}

pass1() {  # pass 1's pytest command line, run in the foreground or in the background
    env -u EM_TEST_DATABASE_URL -u EM_TEST_REDIS_URL \
        "$VENV/bin/pytest" -m "not postgres and not redis and not celery" -o cache_dir=.pytest_cache/sqlite \
        "${pytest_args[@]}"
}

wait_pass1() {  # the background pass 1: wait for it, print what it wrote, record its status
    [ -n "$pass1_pid" ] || return 0
    local code seconds
    wait "$pass1_pid"
    code=$?
    pass1_pid=""
    seconds="$(cat "$pass1_log.seconds" 2>/dev/null || echo $((SECONDS - pass1_start)))"
    heading "$PASS1_LABEL (ran beside pass 2; its output follows)"
    cat "$pass1_log"
    if [ "$code" -eq 0 ]; then
        record "$PASS1_LABEL" ok "$seconds"
    else
        [ "$code" -eq 5 ] && fail "pytest ran no test (exit status 5): that is a failure here"
        fail "$PASS1_LABEL failed (exit status $code)"
        record "$PASS1_LABEL" FAILED "$seconds" "$code"
    fi
}

run_stage() {  # run_stage LABEL COMMAND...
    local label="$1" t0=$SECONDS code
    shift
    heading "$label"
    info "\$ $(printf '%q ' "$@")"
    "$@"
    code=$?
    if [ "$code" -eq 0 ]; then
        record "$label" ok $((SECONDS - t0))
    else
        # pytest's 5 ("no tests collected") counts as a failure like any other non-zero status.
        [ "$code" -eq 5 ] && fail "pytest ran no test (exit status 5): that is a failure here"
        fail "$label failed (exit status $code)"
        record "$label" FAILED $((SECONDS - t0)) "$code"
    fi
    return "$code"
}

for stage in "${stages[@]}"; do
    case "$stage" in
    install)
        run_stage "Install: .venv with '.[server,dev]'" bash deploy/dev/venv.sh server,dev || {
            fail "cannot go on without an installed environment"
            break
        }
        ;;
    portal) run_stage "Portal: npm ci + npm run build" bash deploy/dev/frontend.sh ;;
    ruff) run_stage "Lint: ruff check ." "$VENV/bin/ruff" check . ;;
    mypy) run_stage "Types: mypy ." "$VENV/bin/mypy" . ;;
    imports) run_stage "Imports: lint-imports (layers, client, accounts)" "$VENV/bin/lint-imports" ;;
    frontend)
        run_stage "Frontend: typecheck + vitest" \
            bash -c 'cd frontend && npm run --silent typecheck && npm test --silent'
        ;;
    chromium)
        if is_ci; then
            run_stage "Chromium for the browser tests" bash deploy/dev/chromium.sh
        elif [ -x /usr/bin/chromium ]; then
            heading "Chromium for the browser tests"
            ok "/usr/bin/chromium"
            record "Chromium for the browser tests" ok 0
        else
            heading "Chromium for the browser tests"
            warn "/usr/bin/chromium is missing: the browser tests will skip (\`make chromium\` installs it)"
            record "Chromium for the browser tests" MISSING 0
        fi
        ;;
    sqlite)
        if [[ " ${stages[*]} " == *" postgres "* ]] && [ -z "${EM_TEST_SERIAL:-}" ]; then
            pass1_log="$(mktemp -t em-pass1.XXXXXX.log)"
            pass1_start=$SECONDS
            heading "$PASS1_LABEL"
            info "started in the background beside pass 2 (EM_TEST_SERIAL=1 runs it here); log: $pass1_log"
            # The subshell times itself, so the summary shows pass 1's own duration.
            (
                t0=$SECONDS
                pass1 >"$pass1_log" 2>&1
                code=$?
                echo "$((SECONDS - t0))" >"$pass1_log.seconds"
                exit "$code"
            ) &
            pass1_pid=$!
        else
            run_stage "$PASS1_LABEL" pass1
        fi
        ;;
    services)
        t0=$SECONDS
        heading "Services for pass 2: PostgreSQL and Redis"
        bash deploy/dev/services.sh
        code=$?
        if [ "$code" -eq 0 ]; then
            services_ready=1
            record "Services: PostgreSQL, Redis" ok $((SECONDS - t0))
        elif [ "$code" -eq 2 ] && ! is_ci; then
            skip_note="PostgreSQL or Redis is missing (see above for how to get them): pass 2 was skipped."
            warn "$skip_note"
            record "Services: PostgreSQL, Redis" MISSING $((SECONDS - t0))
        else
            record "Services: PostgreSQL, Redis" FAILED $((SECONDS - t0)) "$code"
        fi
        ;;
    postgres)
        label="Tests, pass 2: PostgreSQL + Redis (all)"
        if [ -z "$services_ready" ] && [[ " ${stages[*]} " == *" services "* ]]; then
            heading "$label"
            if [ -n "$skip_note" ]; then
                warn "SKIPPED: $skip_note"
                record "$label" SKIPPED 0
            else
                fail "not run: PostgreSQL and Redis are not ready"
                record "$label" FAILED 0 1
            fi
            continue
        fi
        run_stage "$label" \
            env EM_TEST_DATABASE_URL="$PG_URL" EM_TEST_REDIS_URL="$REDIS_URL" \
            "$VENV/bin/pytest" "${pytest_args[@]}"
        ;;
    *)
        fail "unknown stage '$stage' (stages: ${ALL_STAGES[*]})"
        exit 2
        ;;
    esac
done

wait_pass1

heading "Summary"
for line in "${summary[@]}"; do info "$line"; done
[ -n "$skip_note" ] && warn "$skip_note"
if [ "$first_failure" -ne 0 ]; then
    printf '\n%smake test: FAILED after %ss%s\n' "$_B$_R" $((SECONDS - started)) "$_N"
    exit "$first_failure"
fi
printf '\n%smake test: OK after %ss%s\n' "$_B$_G" $((SECONDS - started)) "$_N"
