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
