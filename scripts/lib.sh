# shellcheck shell=bash
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# Shared helpers for scripts/run-tests and scripts/dev-server.
# Source this file; it defines functions and a few variables, runs nothing.
#
# Environment:
#   SMS_CENTER_PYTHON          python interpreter to use (default: python3)
#   SMS_CENTER_FORCE_NO_ODOO=1 behave as if Odoo 18 were not importable
#                              (to check the no-Odoo path of the scripts)

SMS_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SMS_PY=${SMS_CENTER_PYTHON:-python3}
SMS_MODULE=sms_center
# Debian packages the tests need: the database, the Kannel SMS gateway
# (bearerbox/smsbox) and its fake SMS centre (fakesmsc, in kannel-extras),
# headless Chromium for Odoo's HttpCase/tour tests, wkhtmltopdf for Odoo's
# PDF reports and poppler-utils (pdftotext) to read them back in the tests.
SMS_DEBIAN_PACKAGES=(postgresql kannel kannel-extras chromium wkhtmltopdf poppler-utils)

sms_log() { printf '==> %s\n' "$*"; }
sms_warn() { printf '!!  %s\n' "$*" >&2; }

# Run a command as root (directly, or through non-interactive sudo).
sms_as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        sms_warn "root needed for: $*"
        return 1
    fi
}

# Run a command as the postgres system user.
sms_as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        sudo -n -u postgres "$@"
    fi
}

# (1) Install the Debian packages that `dpkg` says are missing.
sms_install_debian_packages() {
    local missing=() pkg
    for pkg in "${SMS_DEBIAN_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        sms_log "Debian packages already installed: ${SMS_DEBIAN_PACKAGES[*]}"
        return 0
    fi
    sms_log "Installing missing Debian packages: ${missing[*]}"
    sms_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        sms_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
}

# (2) Start the local PostgreSQL cluster and make sure the current OS user
# has a superuser role (peer authentication over the Unix socket).
sms_start_postgres() {
    if ! command -v pg_lsclusters >/dev/null 2>&1; then
        sms_warn "pg_lsclusters not found: is the Debian package postgresql installed?"
        return 1
    fi
    local ver name port status _rest
    read -r ver name port status _rest < <(pg_lsclusters --no-header 2>/dev/null | head -n 1)
    if [ -z "${ver:-}" ]; then
        ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
        [ -n "$ver" ] || { sms_warn "no PostgreSQL server version installed"; return 1; }
        sms_log "Creating PostgreSQL cluster $ver/main"
        sms_as_root pg_createcluster "$ver" main >/dev/null || return 1
        read -r ver name port status _rest < <(pg_lsclusters --no-header | head -n 1)
    fi
    if [[ "$status" != online* ]]; then
        sms_log "Starting PostgreSQL cluster $ver/$name (port $port)"
        sms_as_root pg_ctlcluster "$ver" "$name" start || return 1
    fi
    # Odoo and psql use libpq defaults (Unix socket); point them at this port.
    if [ "$port" != 5432 ] && [ -z "${PGPORT:-}" ]; then
        export PGPORT=$port
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -p "${PGPORT:-$port}" && break
        sleep 1
    done
    pg_isready -q -p "${PGPORT:-$port}" || { sms_warn "PostgreSQL is not ready"; return 1; }
    local user
    user=$(id -un)
    if ! psql -X -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        sms_log "Creating PostgreSQL superuser role '$user'"
        sms_as_postgres createuser -s "$user" || return 1
    elif [ "$(psql -X -d postgres -tAc 'select rolsuper from pg_roles where rolname = current_user')" != t ]; then
        sms_warn "PostgreSQL role '$user' exists but is not a superuser; making it one"
        sms_as_postgres psql -X -q -d postgres -c "ALTER ROLE \"$user\" SUPERUSER" || return 1
    fi
    sms_log "PostgreSQL $ver/$name is up (port ${PGPORT:-$port}), role '$user' is superuser"
}

# Does a database exist?
sms_db_exists() {
    [ "$(psql -X -d postgres -tAc "select 1 from pg_database where datname = '$1'" 2>/dev/null)" = 1 ]
}

# Print "<major version> <path of the odoo package>" when an Odoo is
# importable by $SMS_PY; fail silently otherwise.
# The answer is cached in SMS_ODOO_INFO ("none" when there is no Odoo)
# once a function asks for it outside a command substitution.
SMS_ODOO_INFO=
sms_detect_odoo() {
    [ -n "$SMS_ODOO_INFO" ] && return 0
    SMS_ODOO_INFO=$("$SMS_PY" -c 'import os, odoo, odoo.release as r; print(r.version_info[0], os.path.dirname(odoo.__file__))' 2>/dev/null)
    [ -n "$SMS_ODOO_INFO" ] || SMS_ODOO_INFO=none
}
sms_odoo_info() {
    sms_detect_odoo
    [ "$SMS_ODOO_INFO" != none ] && echo "$SMS_ODOO_INFO"
}

# Succeed when Odoo 18 is importable (and not hidden on purpose).
sms_have_odoo18() {
    [ "${SMS_CENTER_FORCE_NO_ODOO:-0}" = 1 ] && return 1
    sms_detect_odoo
    local info
    info=$(sms_odoo_info) || return 1
    [ "${info%% *}" = 18 ]
}

# Explain why Odoo 18 is not usable (one short phrase).
sms_why_no_odoo18() {
    if [ "${SMS_CENTER_FORCE_NO_ODOO:-0}" = 1 ]; then
        echo "Odoo 18 is hidden by SMS_CENTER_FORCE_NO_ODOO=1"
        return
    fi
    local info
    if info=$(sms_odoo_info); then
        echo "the importable Odoo is version ${info%% *}, not 18"
    else
        echo "Odoo 18 is not importable on this machine (by $SMS_PY)"
    fi
}

# Addons path for Odoo: the standard addons of the importable odoo, then the
# given addons roots (default: this repository, which holds sms_center/).
# Git layout: <odoo pkg>/../addons holds the standard addons; a packaged
# install ships them inside <odoo pkg>/addons. Addons installed from PyPI
# (helpdesk_mgmt) live in site-packages/odoo/addons and are found through
# the odoo.addons namespace without an entry here.
sms_addons_path() {
    local info odoo_dir std
    info=$(sms_odoo_info) || return 1
    odoo_dir=${info#* }
    if [ -f "$odoo_dir/../addons/web/__manifest__.py" ]; then
        std=$(cd "$odoo_dir/../addons" && pwd)
    else
        std="$odoo_dir/addons"
    fi
    local path=$std root
    if [ $# -eq 0 ]; then set -- "$SMS_REPO_ROOT"; fi
    for root in "$@"; do path="$path,$root"; done
    echo "$path"
}

# Write a pip constraints file that freezes, at their installed versions,
# the packages Odoo depends on (its distribution's requirements plus every
# package its requirements.txt pins with ==, freezegun included), so that
# installing our requirements can never upgrade or downgrade them.
sms_write_odoo_constraints() {
    "$SMS_PY" - "$1" <<'PY'
import importlib.metadata as md
import os
import re
import sys

names = set()
try:
    for req in md.requires("odoo") or []:
        if "extra ==" not in req:
            names.add(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
except md.PackageNotFoundError:
    pass
try:
    import odoo

    req_txt = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "requirements.txt")
    if os.path.isfile(req_txt):
        with open(req_txt) as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                m = re.match(r"([A-Za-z0-9_.\-]+)\s*==", line)
                if m:
                    names.add(m.group(1))
except Exception:
    pass
names.add("freezegun")
pins = []
for name in sorted(names, key=str.lower):
    try:
        pins.append(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        pass
with open(sys.argv[1], "w") as fh:
    fh.write("# generated by scripts/lib.sh: packages Odoo pins, as installed\n")
    fh.write("".join(pin + "\n" for pin in pins))
PY
}

# (3) Install the project's PyPI dependencies quietly, without touching the
# versions Odoo pins; the Odoo addons from PyPI go in with --no-deps (their
# metadata requires an `odoo` distribution we never take from PyPI), and
# only where Odoo 18 is importable.
sms_install_python_deps() {
    local pip=("$SMS_PY" -m pip install --quiet --root-user-action=ignore --disable-pip-version-check)
    local cons rc=0
    cons=$(mktemp /tmp/sms_center_constraints.XXXXXX.txt)
    sms_write_odoo_constraints "$cons" || { rm -f "$cons"; return 1; }
    sms_log "pip install -r requirements.txt (constraints: $(grep -c '==' "$cons") packages pinned by Odoo)"
    # pip warns about the unreachable extra indexes of this machine's pip
    # config on every run; keep the output to real problems.
    "${pip[@]}" -r "$SMS_REPO_ROOT/requirements.txt" -c "$cons" 2>&1 |
        grep -v -e 'is ignored: it is neither a file nor a directory' -e '^$'
    rc=${PIPESTATUS[0]}
    rm -f "$cons"
    [ "$rc" = 0 ] || { sms_warn "pip install -r requirements.txt failed ($rc)"; return "$rc"; }
    if sms_have_odoo18; then
        sms_log "pip install --no-deps -r requirements-odoo-addons.txt"
        "${pip[@]}" --no-deps -r "$SMS_REPO_ROOT/requirements-odoo-addons.txt" 2>&1 |
            grep -v -e 'is ignored: it is neither a file nor a directory' -e '^$'
        rc=${PIPESTATUS[0]}
        [ "$rc" = 0 ] || { sms_warn "pip install requirements-odoo-addons.txt failed ($rc)"; return "$rc"; }
    else
        sms_log "Skipping requirements-odoo-addons.txt: $(sms_why_no_odoo18)"
    fi
}

# A free TCP port on the loopback interface.
sms_free_port() {
    "$SMS_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Write a minimal Odoo configuration file: it keeps ~/.odoorc out of the
# way and forces demo data (Odoo 18 loads demo data unless without_demo is
# set, but a user's rc file could set it).
sms_write_odoo_conf() {
    local conf=$1 data_dir=$2
    cat >"$conf" <<EOF
; generated by scripts/lib.sh
[options]
without_demo = False
data_dir = $data_dir
EOF
}

# Run Odoo the way the `odoo` console script does (TZ=UTC, then odoo.cli),
# with the interpreter chosen by SMS_CENTER_PYTHON.
sms_odoo() {
    TZ=UTC "$SMS_PY" -m odoo "$@"
}

# Drop the database of an Odoo test run that was interrupted (trap helper).
SMS_ODOO_CURRENT_DB=
SMS_ODOO_CURRENT_TMP=
sms_cleanup_odoo_run() {
    if [ -n "$SMS_ODOO_CURRENT_DB" ] && [ "${KEEP_DB:-0}" != 1 ]; then
        dropdb --if-exists --force "$SMS_ODOO_CURRENT_DB" >/dev/null 2>&1
        rm -rf "$SMS_ODOO_CURRENT_TMP"
    fi
    SMS_ODOO_CURRENT_DB='' SMS_ODOO_CURRENT_TMP=''
}

# (6) Install <module> from <addons_root> in a FRESH database with demo data
# and Indonesian, run its tests, check the log, drop the database.
#   sms_run_odoo_tests <addons_root> <module> <test_tags> <log_file>
# Returns 0 only when Odoo exits 0, the module ends up installed, the test
# report says 0 failed and 0 errors, and the log has no ERROR/CRITICAL line.
# Sets SMS_ODOO_PASSED / SMS_ODOO_FAILED / SMS_ODOO_TOTAL / SMS_ODOO_REASON.
# KEEP_DB=1 keeps the database (and prints its name).
# SMS_ODOO_HAND_OVER=1 leaves a database where the module got installed to
# the caller (e.g. for sms_run_pytest_odoo), which drops it afterwards with
# sms_cleanup_odoo_run (as the EXIT trap would).
# Both set SMS_ODOO_DB / SMS_ODOO_CONF / SMS_ODOO_ADDONS_PATH to the kept
# database, its Odoo configuration file and addons path (else empty).
sms_run_odoo_tests() {
    local addons_root=$1 module=$2 tags=$3 logf=$4
    local db port addons_path tmpd rc=0
    SMS_ODOO_PASSED=0 SMS_ODOO_FAILED=0 SMS_ODOO_TOTAL=0 SMS_ODOO_REASON=
    SMS_ODOO_DB='' SMS_ODOO_CONF='' SMS_ODOO_ADDONS_PATH=''
    db="${module}_test_$(date +%s)_$$"
    port=$(sms_free_port) || return 1
    addons_path=$(sms_addons_path "$addons_root") || { SMS_ODOO_REASON="no importable odoo"; return 1; }
    tmpd=$(mktemp -d /tmp/sms_center_odoo.XXXXXX)
    sms_write_odoo_conf "$tmpd/odoo.conf" "$tmpd/data"
    if sms_db_exists "$db"; then
        SMS_ODOO_REASON="database $db already exists"
        return 1
    fi
    SMS_ODOO_CURRENT_DB=$db SMS_ODOO_CURRENT_TMP=$tmpd
    sms_log "Odoo: db=$db port=$port tags=$tags"
    sms_log "Odoo: addons path $addons_path"
    sms_log "Odoo: full log in $logf (shown below: warnings, errors and test lines)"
    local t0=$SECONDS
    # Stream a readable subset of the log (a log record is shown, with its
    # traceback lines, when it is a warning/error or comes from the tests).
    sms_odoo -c "$tmpd/odoo.conf" -d "$db" --addons-path="$addons_path" \
        -i "$module" --test-enable --test-tags "$tags" --stop-after-init \
        --load-language=id_ID --http-interface=127.0.0.1 --http-port="$port" \
        --workers=0 --max-cron-threads=0 --log-level=test 2>&1 |
        tee "$logf" |
        awk -v mod="$module" '
            /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:,]+ [0-9]+ [A-Z]+ / {
                show = ($4 != "INFO" && $4 != "DEBUG") ||
                       (index($0, " odoo.addons." mod ".tests") && / Starting /) ||
                       / odoo\.tests\.stats: / ||
                       index($0, " odoo.modules.loading: Loading module " mod " ") ||
                       / odoo\.modules\.loading: [0-9]+ modules loaded / ||
                       / odoo\.service\.server: ([0-9]+ post-tests in|Starting post tests)/
            }
            show { print; fflush() }'
    rc=${PIPESTATUS[0]}
    local secs=$((SECONDS - t0))

    local installed
    installed=$(psql -X -d "$db" -tAc "select state from ir_module_module where name = '$module'" 2>/dev/null)
    if [ "${KEEP_DB:-0}" = 1 ]; then
        sms_log "KEEP_DB=1: keeping database $db (filestore in $tmpd/data)"
        SMS_ODOO_CURRENT_DB='' SMS_ODOO_CURRENT_TMP=''
    elif [ "${SMS_ODOO_HAND_OVER:-0}" = 1 ] && [ "$installed" = installed ]; then
        : # the caller drops it (SMS_ODOO_CURRENT_DB stays set for the trap)
    else
        dropdb --if-exists --force "$db" >/dev/null 2>&1 || sms_warn "could not drop database $db"
        rm -rf "$tmpd"
        SMS_ODOO_CURRENT_DB='' SMS_ODOO_CURRENT_TMP=''
    fi
    if [ -n "$SMS_ODOO_CURRENT_DB" ] || [ "${KEEP_DB:-0}" = 1 ]; then
        SMS_ODOO_DB=$db SMS_ODOO_CONF=$tmpd/odoo.conf SMS_ODOO_ADDONS_PATH=$addons_path
    fi

    # The report Odoo logs at the end:
    #   odoo.tests.result: 2 failed, 1 error(s) of 25 tests when loading database 'x'
    local summary failed=0 errors=0 total=0
    summary=$(grep -E 'odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$logf" | tail -n 1)
    if [ -n "$summary" ]; then
        read -r failed errors total < <(sed -E 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/' <<<"$summary")
    fi
    local fail_lines err_lines
    # unittest-style failure records, e.g.
    #   ... ERROR db odoo.addons.sms_center.tests.test_x: FAIL: TestX.test_y
    fail_lines=$(grep -cE ' (ERROR|CRITICAL) .* (FAIL|ERROR):' "$logf")
    # any ERROR/CRITICAL log record at all (Odoo's runbot fails on those too)
    err_lines=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logf")

    SMS_ODOO_TOTAL=$total
    SMS_ODOO_FAILED=$((failed + errors))
    SMS_ODOO_PASSED=$((total - failed - errors))
    local reasons=()
    [ "$rc" = 0 ] || reasons+=("odoo exited with code $rc")
    [ "$installed" = installed ] || reasons+=("module $module is '${installed:-absent}', not installed")
    [ -n "$summary" ] || reasons+=("no test report line in the log")
    [ $((failed + errors)) = 0 ] || reasons+=("$failed failed, $errors error(s) of $total tests")
    [ "$fail_lines" = 0 ] || reasons+=("$fail_lines FAIL/ERROR test record(s) in the log")
    [ "$err_lines" = 0 ] || reasons+=("$err_lines ERROR/CRITICAL log line(s)")
    if [ ${#reasons[@]} -gt 0 ]; then
        # count a suite that failed outside any test as one failure
        [ "$SMS_ODOO_FAILED" != 0 ] || SMS_ODOO_FAILED=1
        SMS_ODOO_REASON=$(printf '%s; ' "${reasons[@]}")
        SMS_ODOO_REASON=${SMS_ODOO_REASON%; }
        sms_warn "Odoo suite FAILED in ${secs}s: $SMS_ODOO_REASON"
        grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logf" | head -n 20 >&2
        return 1
    fi
    SMS_ODOO_REASON="$total tests, 0 failed, in ${secs}s"
    sms_log "Odoo suite passed: $total tests in ${secs}s"
    return 0
}

# (7) Run <module>'s Odoo tests with pytest-odoo in an existing database
# where it is installed (TransactionCase tests; pytest-odoo skips HttpCase
# ones without --odoo-http), as a developer runs them:
#   pytest --odoo-database=DB <module>/tests
#   sms_run_pytest_odoo <db> <odoo_conf> <addons_path> <module> <log_file> [pytest args...]
# Returns pytest's exit code (5, nothing collected, counts as a failure).
# Sets SMS_PYTEST_PASSED / SMS_PYTEST_FAILED / SMS_PYTEST_SKIPPED / SMS_PYTEST_REASON.
sms_run_pytest_odoo() {
    local db=$1 conf=$2 addons_path=$3 module=$4 logf=$5 rc
    shift 5
    SMS_PYTEST_PASSED=0 SMS_PYTEST_FAILED=0 SMS_PYTEST_SKIPPED=0 SMS_PYTEST_REASON=
    local args=(-m pytest "--odoo-database=$db" "--odoo-config=$conf"
        "--odoo-addons-path=$addons_path" -p no:cacheprovider -q -rfE
        "$SMS_REPO_ROOT/$module/tests" "$@")
    sms_log "pytest-odoo: db=$db, full output in $logf"
    echo "+ $SMS_PY ${args[*]}"
    local t0=$SECONDS
    # TZ=UTC as Odoo's own launcher sets it (sms_odoo).
    TZ=UTC "$SMS_PY" "${args[@]}" 2>&1 | tee "$logf"
    rc=${PIPESTATUS[0]}
    local last errors=0
    # the closing line, e.g. "1 failed, 147 passed, 40 skipped in 99.1s"
    last=$(grep -E '[0-9]+ (passed|failed|errors?|skipped)|no tests ran' "$logf" | tail -n 1)
    [[ $last =~ ([0-9]+)\ passed ]] && SMS_PYTEST_PASSED=${BASH_REMATCH[1]}
    [[ $last =~ ([0-9]+)\ failed ]] && SMS_PYTEST_FAILED=${BASH_REMATCH[1]}
    [[ $last =~ ([0-9]+)\ error ]] && errors=${BASH_REMATCH[1]}
    [[ $last =~ ([0-9]+)\ skipped ]] && SMS_PYTEST_SKIPPED=${BASH_REMATCH[1]}
    SMS_PYTEST_FAILED=$((SMS_PYTEST_FAILED + errors))
    SMS_PYTEST_REASON="$SMS_PYTEST_PASSED passed, $SMS_PYTEST_FAILED failed, $SMS_PYTEST_SKIPPED skipped (HttpCase) in $((SECONDS - t0))s"
    if [ "$rc" = 5 ]; then
        SMS_PYTEST_REASON="pytest collected no test"
    elif [ "$rc" != 0 ]; then
        SMS_PYTEST_REASON="$SMS_PYTEST_REASON; pytest exit code $rc"
    fi
    if [ "$rc" != 0 ] && [ "$SMS_PYTEST_FAILED" = 0 ]; then
        SMS_PYTEST_FAILED=1 # a run that failed outside any test
    fi
    return "$rc"
}
