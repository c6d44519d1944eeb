# Helpers for the capture tests (sourced after lib.bash and pg.bash): run `sluice capture` in the
# background and wait for what it writes.

# capture_start OUT [extra sluice capture options...]: start a capture into OUT; sets capture_pid.
capture_start() {
    local out=$1
    shift
    "$SLUICE_BIN" capture --state-dir "$test_tmp/state" --conninfo "$pg_conninfo" --output "$out" \
        --flush-interval 200 "$@" 2>>"$test_tmp/capture.log" &
    capture_pid=$!
    test_pids+=("$capture_pid")
}

# capture_stop: SIGINT, then expect exit status 0 within 30 s.
capture_stop() {
    kill -INT "$capture_pid"
    wait_exit "$capture_pid" 30 || { tail -20 "$test_tmp/capture.log"; fail "capture did not stop on SIGINT"; }
    [ "$exit_status" = 0 ] || { tail -20 "$test_tmp/capture.log"; fail "capture exited $exit_status on SIGINT"; }
}

# wait_lines FILE PATTERN COUNT SECONDS: until FILE has at least COUNT lines matching PATTERN.
wait_lines() {
    local file=$1 pattern=$2 count=$3 secs=$4 i n
    for ((i = 0; i < secs * 10; i++)); do
        n=$(grep -c -- "$pattern" "$file" 2>/dev/null || true)
        [ "${n:-0}" -ge "$count" ] && return 0
        if [ -n "${capture_pid:-}" ] && ! kill -0 "$capture_pid" 2>/dev/null; then
            tail -20 "$test_tmp/capture.log"
            fail "capture exited while waiting for $count lines matching $pattern"
        fi
        sleep 0.1
    done
    tail -20 "$test_tmp/capture.log"
    fail "timed out waiting for $count lines matching '$pattern' in $file (have ${n:-0})"
}

# slot_confirmed SLOT: the slot's confirmed_flush_lsn (empty when the slot does not exist).
slot_confirmed() {
    psql_q "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$1'"
}

# wait_log PATTERN SECONDS: until the capture log has a line matching PATTERN (grep -E).
wait_log() {
    local pattern=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        grep -Eq -- "$pattern" "$test_tmp/capture.log" 2>/dev/null && return 0
        if [ -n "${capture_pid:-}" ] && ! kill -0 "$capture_pid" 2>/dev/null; then
            tail -20 "$test_tmp/capture.log"
            fail "capture exited while waiting for '$pattern' in its log"
        fi
        sleep 0.1
    done
    tail -20 "$test_tmp/capture.log"
    fail "timed out waiting for '$pattern' in the capture log"
}

# wait_confirmed SLOT LSN SECONDS: until SLOT's confirmed_flush_lsn >= LSN (the capture has
# written out and confirmed everything up to LSN). Fails if the capture exits meanwhile.
wait_confirmed() {
    local slot=$1 lsn=$2 secs=$3 i got=
    for ((i = 0; i < secs * 4; i++)); do
        got=$(psql_q "SELECT confirmed_flush_lsn >= '$lsn'::pg_lsn FROM pg_replication_slots WHERE slot_name = '$slot'" 2>/dev/null || true)
        [ "$got" = t ] && return 0
        if [ -n "${capture_pid:-}" ] && ! kill -0 "$capture_pid" 2>/dev/null; then
            tail -20 "$test_tmp/capture.log"
            fail "capture exited while waiting for slot $slot to confirm $lsn"
        fi
        sleep 0.25
    done
    tail -20 "$test_tmp/capture.log"
    fail "timed out: slot $slot confirmed $(slot_confirmed "$slot" 2>/dev/null || true), want >= $lsn"
}

# rss_kib PID: resident set size of PID in KiB (VmRSS), empty if it is gone.
rss_kib() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || true
}
