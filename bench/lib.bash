# Shared pieces of the benchmarks (sourced): logging, the Release build of sluice, and a private
# PostgreSQL 15 tuned for throughput that is stopped and deleted on exit.
#   source bench/lib.bash; bench_build_sluice; bench_pg_start NSLOTS; ... (q, conninfo, pg_bin)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
now_ns() { date +%s%N; }

pg_bin=$(pg_config --bindir 2>/dev/null || true)
[ -x "$pg_bin/initdb" ] || pg_bin=/usr/lib/postgresql/15/bin
[ -x "$pg_bin/initdb" ] || die "PostgreSQL 15 server binaries not found (apt-get install postgresql-15)"
if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (peak RSS)"
    apt-get install -y -q time >/dev/null || die "/usr/bin/time missing and 'apt-get install time' failed"
fi

# bench_build_sluice: sets sluice_bin (a Release build in bench/build) unless already set.
bench_build_sluice() {
    [ -n "${sluice_bin:-}" ] || {
        local build=$repo/bench/build
        say "building sluice (Release) in $build"
        mkdir -p "$build"
        cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=OFF \
            >"$build/bench-build.log" 2>&1 &&
            cmake --build "$build" -j"$(nproc)" --target sluice >>"$build/bench-build.log" 2>&1 ||
            { tail -30 "$build/bench-build.log" >&2; die "build failed (see $build/bench-build.log)"; }
        sluice_bin=$build/sluice
    }
    [ -x "$sluice_bin" ] || die "no sluice binary at $sluice_bin"
}

tmp=$(mktemp -d /tmp/sluice-bench.XXXXXX)
chmod 755 "$tmp"
pg_data=$tmp/pg
child=

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
bench_cleanup() {
    if [ -n "$child" ]; then   # /usr/bin/time -> timeout -> client: timeout passes TERM on
        for pid in $(pgrep -P "$child" || true); do kill "$pid" 2>/dev/null || true; done
        wait "$child" 2>/dev/null || true
    fi
    [ -f "$pg_data/postmaster.pid" ] && as_owner "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

# bench_pg_start NSLOTS: initdb + start; creates database bench. Sets port, conninfo, PG* vars.
bench_pg_start() {
    local nslots=$1
    mkdir -p "$pg_data"
    [ "$(id -u)" = 0 ] && chown postgres: "$pg_data"
    as_owner "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 ||
        { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
    port=$(free_port)
    cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pg_data'
wal_level = logical
max_replication_slots = $((nslots + 4))
max_wal_senders = $((nslots + 4))
max_connections = 100
fsync = off
shared_buffers = 256MB
max_wal_size = 8GB
checkpoint_timeout = 30min
autovacuum = off
CONF
    as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 start >/dev/null ||
        { cat "$pg_data/server.log" >&2; die "PostgreSQL did not start"; }
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    conninfo="host=127.0.0.1 port=$port user=postgres dbname=bench"
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench" >/dev/null
}
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d bench -c "$1"; }

# The orders table every benchmark uses, with a publication bench_pub on it.
bench_orders_create() {
    q "CREATE TABLE public.orders (
           id         int8 PRIMARY KEY,
           customer   text NOT NULL,
           amount     numeric(12,2) NOT NULL,
           created_at timestamptz NOT NULL,
           paid       bool NOT NULL,
           attrs      jsonb
       );
       CREATE PUBLICATION bench_pub FOR TABLE public.orders;"
}

# Machine line for the report.
bench_machine() {
    local cpu_model commit
    cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$repo" diff --quiet HEAD -- firmware 2>/dev/null || commit="$commit+changes"
    echo "sluice $commit, $(q "SELECT version()" | cut -d, -f1), $(nproc) x $cpu_model, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}
