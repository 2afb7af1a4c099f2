# A throwaway PostgreSQL server on 127.0.0.1, for CI and for developers.
#
#   source .ci/postgres.sh && pg_start   # exports ARTIST_DASHBOARD_TEST_POSTGRES_URL
#   pg_stop                              # stops it and removes its files
#
# Installs Debian's `postgresql` when no server binaries are found. initdb and pg_ctl refuse to
# run as root, so the server runs as the `postgres` user, on a free port, with trust auth on a
# loopback-only listener, in a fresh temporary directory.

_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

_pg_install() {
    if [ -z "$(_pg_bin)" ] || [ ! -x "$(_pg_bin)/initdb" ]; then
        echo "postgres: installing Debian's postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
}

_as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    _pg_install
    local bin port
    bin=$(_pg_bin)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    PG_TMP=$(mktemp -d /tmp/artist-dashboard-pg.XXXXXX)
    chmod 755 "$PG_TMP"
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_TMP"
    _as_postgres "$bin/initdb" -D "$PG_TMP/data" -U postgres -A trust --no-sync -E UTF8 >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    _as_postgres "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP -c fsync=off" start >&2 \
        || { cat "$PG_TMP/server.log" >&2; return 1; }
    PG_BIN=$bin
    export ARTIST_DASHBOARD_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "postgres: running on 127.0.0.1:$port ($("$bin/postgres" --version))" >&2
}

pg_stop() {
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
        _as_postgres "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_TMP"
    fi
}
