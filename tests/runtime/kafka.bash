# Helpers for the Kafka tests (sourced after lib.bash and pg.bash): a Kafka cluster from
# tests/tools/kafka_mock_cluster (librdkafka's mock cluster, driven through a control FIFO),
# `sluice run` daemons (sluice.bash) configured to produce to it, and kcat as the independent
# consumer.
# Missing tools fail the test: nothing here skips silently. (The tool's path comes in
# SLUICE_TEST_KAFKA_MOCK: a SLUICE_KAFKA_* variable would be read by `sluice run` as a kafka.*
# setting and refused as unknown.)
: "${SLUICE_TEST_KAFKA_MOCK:?SLUICE_TEST_KAFKA_MOCK must point to the kafka_mock_cluster test tool (ctest sets it)}"
[ -x "$SLUICE_TEST_KAFKA_MOCK" ] || fail "kafka_mock_cluster not built: $SLUICE_TEST_KAFKA_MOCK"
command -v kcat >/dev/null || fail "kcat not found (install the Debian package kcat)"
source "$(dirname "${BASH_SOURCE[0]}")/sluice.bash"

# kafka_mock_start [BROKERS]: start the mock cluster; sets kafka_bootstrap.
kafka_mock_start() {
    local n=${1:-1} i
    kafka_mock_ctl="$test_tmp/kafka_mock.ctl"
    kafka_mock_out="$test_tmp/kafka_mock.out"
    mkfifo "$kafka_mock_ctl"
    "$SLUICE_TEST_KAFKA_MOCK" --brokers "$n" --control "$kafka_mock_ctl" >"$kafka_mock_out" 2>"$test_tmp/kafka_mock.log" &
    kafka_mock_pid=$!
    test_pids+=("$kafka_mock_pid")
    # Read-write open never blocks on a FIFO; the tool sees end of file when this shell exits.
    exec {kafka_mock_fd}<>"$kafka_mock_ctl"
    for ((i = 0; i < 100; i++)); do
        grep -q '^bootstrap=' "$kafka_mock_out" 2>/dev/null && break
        kill -0 "$kafka_mock_pid" 2>/dev/null || { cat "$test_tmp/kafka_mock.log"; fail "kafka_mock_cluster exited"; }
        sleep 0.1
    done
    kafka_bootstrap=$(sed -n 's/^bootstrap=//p' "$kafka_mock_out")
    [ -n "$kafka_bootstrap" ] || fail "kafka_mock_cluster printed no bootstrap servers"
    sluice_defaults+=("kafka.brokers=$kafka_bootstrap")
    kafka_mock_cmd_count=0
}

# kafka_mock_cmd COMMAND...: send one command and wait for its answer; fails the test on error.
kafka_mock_cmd() {
    local i answer
    echo "$*" >&"$kafka_mock_fd"
    kafka_mock_cmd_count=$((kafka_mock_cmd_count + 1))
    for ((i = 0; i < 300; i++)); do
        answer=$(grep -E '^(ok|error)' "$kafka_mock_out" | sed -n "${kafka_mock_cmd_count}p" || true)
        [ -n "$answer" ] && break
        kill -0 "$kafka_mock_pid" 2>/dev/null || fail "kafka_mock_cluster exited during '$*'"
        sleep 0.1
    done
    [ "$answer" = ok ] || fail "mock cluster command '$*': ${answer:-no answer in 30 s}"
}

# kafka_consume TOPIC OUT [SECS]: every message of TOPIC as kcat JSON lines (topic, partition,
# offset, key, payload, headers) into OUT; 0 when kcat reached the end of every partition.
kafka_consume() {
    local topic=$1 out=$2 secs=${3:-20}
    timeout "$secs" kcat -C -b "$kafka_bootstrap" -t "$topic" -o beginning -e -J -q \
        -X topic.metadata.refresh.interval.ms=1000 >"$out" 2>"$out.err"
}

# kafka_wait_count TOPIC COUNT SECS OUT: until TOPIC holds at least COUNT messages (left in OUT).
kafka_wait_count() {
    local topic=$1 count=$2 secs=$3 out=$4 i n=0 start=$SECONDS
    while ((SECONDS - start < secs)); do
        if kafka_consume "$topic" "$out" 20; then
            n=$(wc -l <"$out")
            [ "$n" -ge "$count" ] && return 0
        fi
        sluice_check_alive
        sleep 0.3
    done
    for i in "${!sluice_pid[@]}"; do tail -15 "$test_tmp/$i.log"; done
    fail "timed out: topic $topic has ${n} messages, want $count ($(tail -c 300 "$out.err" 2>/dev/null))"
}
