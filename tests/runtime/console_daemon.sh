#!/usr/bin/env bash
# The daemon's life: first boot seeds the store from file and environment and prints the admin
# one-time password once; a bad first-boot configuration stores nothing; SIGHUP reloads settings;
# SIGTERM drains and exits 0; `sluice config export/import` round-trips the whole store.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

state="$test_tmp/state"
conf="$test_tmp/sluice.conf"
port=$(free_port)
cat >"$conf" <<CONF
[console]
listen = 127.0.0.1:$port
session_ttl = 1h
[source]
conninfo = "host=127.0.0.1 dbname=shop"
slot = from_file
CONF

# A bad first boot refuses to start and leaves the store unseeded.
rc=0
SLUICE_LOG_LEVEL=chatty "$SLUICE_BIN" run --state-dir "$state" --config "$conf" >"$test_tmp/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "bad environment value at first boot: exit $rc, want 1"
grep -q "SLUICE_LOG_LEVEL" "$test_tmp/bad.out" || fail "bad first boot did not name the variable"
pass "bad first-boot configuration refused"

SLUICE_SOURCE_SLOT=from_env SLUICE_SOURCE_PASSWORD=hunter2-very-secret \
    "$SLUICE_BIN" run --state-dir "$state" --config "$conf" >"$test_tmp/run1.out" 2>"$test_tmp/run1.err" &
pid=$!
test_pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz" 30 || { cat "$test_tmp/run1.err"; fail "daemon did not come up"; }
grep -q "one-time password for admin: [A-Za-z0-9]\{20\}$" "$test_tmp/run1.out" || fail "no one-time password on stdout"
[ "$("$SLUICE_BIN" config get source.slot --state-dir "$state")" = from_env ] || fail "environment did not win over the file"
[ "$("$SLUICE_BIN" config get console.session_ttl --state-dir "$state")" = 1h ] || fail "file setting not seeded"
[ "$("$SLUICE_BIN" config get source.password --state-dir "$state")" = "(secret, set)" ] || fail "secret not reported as set"
grep -rq hunter2-very-secret "$test_tmp/run1.out" "$test_tmp/run1.err" && fail "secret appeared in output"
sqlite3 "$state/sluice.db" "select value from settings" | grep -q hunter2 && fail "secret stored in plain text"
[ "$(sqlite3 "$state/sluice.db" 'pragma journal_mode')" = wal ] || fail "store not in WAL mode"
[ "$(stat -c %a "$state/secret.key")" = 600 ] || fail "key file is not mode 600"
pass "first boot seeded file + environment; secret encrypted; key file 0600"

# SIGHUP: a changed setting is applied (log format switches to JSON lines).
"$SLUICE_BIN" config set log.format json --state-dir "$state" >/dev/null
kill -HUP "$pid"
for _ in $(seq 50); do grep -q '"msg":"configuration reloaded"' "$test_tmp/run1.err" && break; sleep 0.1; done
grep -q '"msg":"configuration reloaded".*"changed":"log.format"' "$test_tmp/run1.err" || {
    cat "$test_tmp/run1.err"
    fail "SIGHUP did not reload"
}
grep -q '^sluice_config_reloads_total 1$' <<<"$(curl -s "http://127.0.0.1:$port/metrics")" || fail "reload not counted"
pass "SIGHUP reloads settings"

kill -TERM "$pid"
wait_exit "$pid" 20 || fail "daemon did not stop within 20 s of SIGTERM"
[ "$exit_status" = 0 ] || fail "SIGTERM exit status $exit_status, want 0"
grep -q '"msg":"stopped"' "$test_tmp/run1.err" || fail "no stop record"
pass "SIGTERM drains and exits 0"

# Second boot: no new password, settings kept.
"$SLUICE_BIN" run --state-dir "$state" >"$test_tmp/run2.out" 2>"$test_tmp/run2.err" &
pid=$!
test_pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz" 30 || fail "daemon did not come up again"
grep -q "one-time password" "$test_tmp/run2.out" && fail "one-time password printed twice"
kill -TERM "$pid"
wait_exit "$pid" 20 || fail "second stop timed out"
[ "$exit_status" = 0 ] || fail "second stop exit $exit_status"
pass "restart keeps the store and prints no password"

# Export / import round trip into a new state directory sharing the key.
"$SLUICE_BIN" config export --state-dir "$state" --output "$test_tmp/export.json"
grep -q hunter2 "$test_tmp/export.json" && fail "export holds a plain-text secret"
grep -q '"source.slot": "from_env"' "$test_tmp/export.json" || fail "export lacks settings"
state2="$test_tmp/state2"
mkdir -m 700 "$state2"
cp -p "$state/secret.key" "$state2/secret.key"
"$SLUICE_BIN" run --state-dir "$state2" --listen "127.0.0.1:$(free_port)" >/dev/null 2>&1 &
pid=$!
test_pids+=("$pid")
for _ in $(seq 100); do [ -s "$state2/sluice.db" ] && break; sleep 0.1; done
sleep 1
kill -TERM "$pid"
wait_exit "$pid" 20 || fail "third daemon did not stop"
"$SLUICE_BIN" config import "$test_tmp/export.json" --state-dir "$state2" >/dev/null
"$SLUICE_BIN" config export --state-dir "$state2" --output "$test_tmp/export2.json"
diff -u "$test_tmp/export.json" "$test_tmp/export2.json" || fail "export -> import -> export differs"
pass "config export/import round trip"

# A broken import changes nothing.
sed 's/"source.slot": "from_env"/"source.nope": "x"/' "$test_tmp/export.json" >"$test_tmp/bad.json"
rc=0
"$SLUICE_BIN" config import "$test_tmp/bad.json" --state-dir "$state2" 2>"$test_tmp/import.err" || rc=$?
[ "$rc" = 1 ] || fail "bad import exit $rc"
grep -q "source.nope" "$test_tmp/import.err" || fail "bad import did not name the key"
"$SLUICE_BIN" config export --state-dir "$state2" --output "$test_tmp/export3.json"
diff -q "$test_tmp/export.json" "$test_tmp/export3.json" >/dev/null || fail "bad import changed the store"
pass "bad import rejected whole"
