# PostgreSQL 15 for the runtime tests (sourced after lib.bash): pg_start makes a private cluster
# in $test_tmp on a free port with wal_level=logical, started as user postgres when run as root;
# it is stopped by the EXIT trap. Sets PGHOST, PGPORT, PGUSER, PGDATABASE (psql needs no flags)
# and pg_conninfo. Fails loudly when PostgreSQL 15 is missing.
pg_bin=$(pg_config --bindir 2>/dev/null || true)
[ -x "$pg_bin/initdb" ] || pg_bin=/usr/lib/postgresql/15/bin
[ -x "$pg_bin/initdb" ] || fail "PostgreSQL 15 server binaries not found (install postgresql-15)"
command -v psql >/dev/null || fail "psql not found (install postgresql-client-15)"

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_stop() {
    [ -n "${pg_data:-}" ] && [ -f "$pg_data/postmaster.pid" ] &&
        pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
}

# pg_start [extra postgresql.conf lines...]
pg_start() {
    pg_data="$test_tmp/pg"
    mkdir -p "$pg_data"
    [ "$(id -u)" = 0 ] && chown postgres: "$pg_data"
    pg_as_owner "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$test_tmp/initdb.log" 2>&1 ||
        { cat "$test_tmp/initdb.log"; fail "initdb failed"; }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$pg_data'"
        echo "wal_level = logical"
        echo "max_replication_slots = 10"
        echo "max_wal_senders = 10"
        echo "fsync = off"   # test clusters only: speed over crash safety of the test server
        for line in "$@"; do echo "$line"; done
    } >>"$pg_data/postgresql.conf"
    # A free port can be taken by another test between the check and the bind: try a few.
    local attempt
    for attempt in 1 2 3 4 5; do
        PGPORT=$(free_port)
        pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 -o "-p $PGPORT" start \
            >/dev/null && break
        grep -q "could not bind\|Address already in use" "$pg_data/server.log" && [ "$attempt" -lt 5 ] && continue
        cat "$pg_data/server.log"
        fail "PostgreSQL did not start"
    done
    export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres
    pg_conninfo="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
    trap 'pg_stop; test_cleanup' EXIT
}

# psql_q SQL: run SQL quietly, print unaligned tuples, fail the test on error.
psql_q() {
    psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}
