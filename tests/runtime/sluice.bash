# Helpers for tests that run `sluice run` daemons against the test PostgreSQL (sourced after
# lib.bash and pg.bash): start/stop/liveness, slot positions, and an "oracle" test_decoding slot
# that tells what PostgreSQL committed (LSN, xid, commit time). Missing tools fail the test.
command -v jq >/dev/null || fail "jq not found (install the Debian package jq)"
command -v python3 >/dev/null || fail "python3 not found"

declare -gA sluice_pid=() sluice_port=()
sluice_defaults=()   # settings every sluice_start adds (before its own arguments)

# sluice_start NAME [KEY=VALUE...]: run `sluice run` with a fresh state directory (kept across
# restarts of the same NAME) whose first-boot configuration points the source at the test
# PostgreSQL (slot and publication NAME; no source when pg.bash's pg_conninfo is unset), plus sluice_defaults (e.g. Kafka at the mock cluster);
# KEY=VALUE settings are added or replace those defaults. Waits until /readyz answers 200. Log: $test_tmp/NAME.log.
sluice_start() {
    local name=$1 kv
    shift
    local conf="$test_tmp/$name.conf" state="$test_tmp/$name.state"
    if [ ! -d "$state" ]; then
        sluice_port[$name]=$(free_port)
        local settings=("console.listen=127.0.0.1:${sluice_port[$name]}")
        # Without pg.bash's PostgreSQL (pg_conninfo unset) the daemon runs without a source.
        [ -n "${pg_conninfo:-}" ] && settings+=("source.conninfo=$pg_conninfo" "source.slot=$name" "source.publication=$name")
        settings+=("${sluice_defaults[@]}")
        for kv in "$@"; do   # an argument replaces the default of the same key
            local k=${kv%%=*} j
            for j in "${!settings[@]}"; do [ "${settings[$j]%%=*}" = "$k" ] && unset "settings[$j]"; done
            settings+=("$kv")
        done
        for kv in "${settings[@]}"; do
            local v=${kv#*=}
            v=${v//\\/\\\\}
            echo "${kv%%=*} = \"${v//\"/\\\"}\""
        done >"$conf"
    fi
    "$SLUICE_BIN" run --state-dir "$state" --config "$conf" >>"$test_tmp/$name.log" 2>&1 &
    sluice_pid[$name]=$!
    test_pids+=("${sluice_pid[$name]}")
    local i code
    for ((i = 0; i < 600; i++)); do
        code=$(curl -s -o "$test_tmp/$name.readyz" -w '%{http_code}' "http://127.0.0.1:${sluice_port[$name]}/readyz" || true)
        [ "$code" = 200 ] && return 0
        if ! kill -0 "${sluice_pid[$name]}" 2>/dev/null; then
            tail -30 "$test_tmp/$name.log"
            fail "sluice $name exited before it was ready"
        fi
        sleep 0.1
    done
    tail -30 "$test_tmp/$name.log"
    fail "sluice $name not ready in 60 s: $(cat "$test_tmp/$name.readyz" 2>/dev/null)"
}

# sluice_stop NAME: SIGTERM; expects exit status 0 within 30 s.
sluice_stop() {
    local name=$1
    kill -TERM "${sluice_pid[$name]}"
    wait_exit "${sluice_pid[$name]}" 30 || { tail -30 "$test_tmp/$name.log"; fail "sluice $name did not stop on SIGTERM"; }
    [ "$exit_status" = 0 ] || { tail -30 "$test_tmp/$name.log"; fail "sluice $name exited $exit_status on SIGTERM"; }
    unset "sluice_pid[$name]"
}

# sluice_kill NAME: kill -9 (a crash); the state directory stays for the next sluice_start NAME.
sluice_kill() {
    local name=$1
    kill -9 "${sluice_pid[$name]}"
    wait_exit "${sluice_pid[$name]}" 10 || fail "sluice $name did not die on SIGKILL"
    unset "sluice_pid[$name]"
}

# sluice_check_alive: fail when a started daemon has exited.
sluice_check_alive() {
    local name
    for name in "${!sluice_pid[@]}"; do
        if ! kill -0 "${sluice_pid[$name]}" 2>/dev/null; then
            tail -30 "$test_tmp/$name.log"
            fail "sluice $name exited"
        fi
    done
}

# sluice_readyz NAME: the /readyz body (any status).
sluice_readyz() {
    curl -s "http://127.0.0.1:${sluice_port[$1]}/readyz" || true
}

# oracle_create: a test_decoding slot that records every change from now on, never consumed.
oracle_create() {
    psql_q "SELECT 'oracle' FROM pg_create_logical_replication_slot('oracle', 'test_decoding')" >/dev/null
}

# oracle_dump OUT: what the oracle slot has seen, one JSON object a line: lsn (decimal), xid,
# data (test_decoding's text) and, on COMMIT lines, commit_us (commit time, Unix microseconds).
# A COMMIT line's lsn is the end of the commit record.
oracle_dump() {
    psql -X -q -v ON_ERROR_STOP=1 -At -c "
        SELECT json_build_object('lsn', (lsn - '0/0'::pg_lsn)::bigint, 'xid', xid::text::bigint, 'data', data,
            'commit_us', CASE WHEN data LIKE 'COMMIT %'
                THEN (extract(epoch FROM substring(data FROM '\(at (.*)\)')::timestamptz) * 1000000)::bigint END)
        FROM pg_logical_slot_peek_changes('oracle', NULL, NULL, 'include-timestamp', '1')" >"$1"
}

# slot_confirmed_num SLOT: confirmed_flush_lsn of SLOT as a decimal number.
slot_confirmed_num() {
    psql_q "SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '$1'"
}

# wait_slot_confirmed SLOT LSN SECS: until SLOT's confirmed_flush_lsn >= LSN (decimal).
wait_slot_confirmed() {
    local slot=$1 lsn=$2 secs=$3 start=$SECONDS got
    while ((SECONDS - start < secs)); do
        got=$(slot_confirmed_num "$slot")
        [ -n "$got" ] && [ "$got" -ge "$lsn" ] && return 0
        sluice_check_alive
        sleep 0.2
    done
    fail "timed out: slot $slot confirmed ${got:-nothing}, want >= $lsn"
}

# wal_lsn_num: pg_current_wal_lsn() as a decimal number.
wal_lsn_num() {
    psql_q "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint"
}

# wait_slot_active SLOT SECS: until SLOT exists and a walsender streams from it.
wait_slot_active() {
    local slot=$1 secs=$2 start=$SECONDS
    while ((SECONDS - start < secs)); do
        [ "$(psql_q "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] && return 0
        sluice_check_alive
        sleep 0.2
    done
    fail "slot $slot is not streaming after $secs s"
}
