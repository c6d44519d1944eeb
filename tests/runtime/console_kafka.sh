#!/usr/bin/env bash
# console_kafka: the console's Kafka message browser against a real `sluice run` capturing a test
# PostgreSQL into the embedded broker. Waits (with kcat, an independent Kafka client) until the
# changes are in the topic, drives the Topics view in headless Chromium (tests/e2e/browser.mjs),
# then checks the API: the topic list (<prefix>.<schema>.<table>, message count = changes made,
# internal topics hidden), the messages (Debezium JSON values with op and after, tombstones as
# null values, paging), the same offsets, keys and values as kcat reads, answers for bad
# parameters (400), an unknown topic (404), no session (401); and 409 when Kafka is off.
# Needs: SLUICE_BIN, PostgreSQL 15, kcat, curl, node, chromium + `npm ci` in tests/e2e.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e="$here/../e2e"
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
for tool in curl node kcat; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (kcat: apt-get install kcat)"
done
[ -x "$chromium_bin" ] || fail "$chromium_bin is missing (apt-get install chromium)"
[ -d "$e2e/node_modules/playwright-core" ] || fail "$e2e/node_modules/playwright-core is missing (npm ci --prefix $e2e)"

source "$(dirname "$0")/http.bash"

# daemon_start NAME CONFIG: `sluice run` in $test_tmp/NAME; sets pid, base, daemon_log, onetime.
daemon_start() {
    local name=$1 conf=$2
    daemon_log="$test_tmp/$name.err"
    "$SLUICE_BIN" run --state-dir "$test_tmp/$name" --config "$conf" >"$test_tmp/$name.out" 2>"$daemon_log" &
    pid=$!
    test_pids+=("$pid")
    wait_http "$base/healthz" 30 || die "sluice run ($name) did not come up"
    onetime=$(sed -n 's/.*one-time password for admin: \([A-Za-z0-9]*\).*/\1/p' "$test_tmp/$name.out" | head -n1)
    [ -n "$onetime" ] || die "sluice run ($name) printed no one-time password"
}

daemon_stop() {
    kill -TERM "$pid" 2>/dev/null || true
    wait_exit "$pid" 30 || die "sluice run did not stop within 30 s of SIGTERM"
}

# login PASSWORD [NEW]: sign in as admin (and change the one-time password to NEW).
login() {
    rm -f "$test_tmp/jar"
    req POST /api/v1/session "{\"user\":\"admin\",\"password\":\"$1\"}"
    [ "$status" = 200 ] || die "login failed with HTTP $status"
    if [ $# -ge 2 ]; then
        req POST /api/v1/session/password "{\"current\":\"$1\",\"new\":\"$2\"}"
        [ "$status" = 200 ] || die "password change failed with HTTP $status"
    fi
}

# kcat_count: messages kcat reads from the topic (0 while it does not exist: asking for the topic
# by name before could create it).
kcat_count() {
    kcat -L -b "$bootstrap" -J 2>/dev/null | grep -qF '"topic":"'"$topic"'"' || { echo 0; return; }
    kcat -C -b "$bootstrap" -t "$topic" -e -q -J 2>/dev/null | grep -c '"offset"' || true
}

# wait_kcat COUNT SECONDS: until kcat reads at least COUNT messages from the topic.
wait_kcat() {
    local n=0 i
    for ((i = 0; i < $2 * 2; i++)); do
        n=$(kcat_count)
        [ "$n" -ge "$1" ] && return 0
        kill -0 "$pid" 2>/dev/null || die "sluice run exited while waiting for messages"
        sleep 0.5
    done
    die "timed out: kcat reads $n message(s) from $topic, expected $1"
}

# ---- a source with one table, a daemon with the embedded broker ---------------------------------
pg_start
psql_q "CREATE TABLE public.orders (id int PRIMARY KEY, note text, amount numeric(10,2));
        INSERT INTO public.orders SELECT g, 'snapshot ' || g, g * 1.5 FROM generate_series(1, 5) g;"

prefix=kshop
topic="$prefix.public.orders"
port=$(free_port)
base="http://127.0.0.1:$port"
cat >"$test_tmp/kafka.conf" <<CONF
[console]
listen = 127.0.0.1:$port
[source]
conninfo = "$pg_conninfo"
slot = console_kafka
[kafka]
brokers = embedded
topic_prefix = $prefix
CONF
daemon_start kafka "$test_tmp/kafka.conf"
ok "sluice run with kafka.brokers = embedded is up"

# The embedded broker's address, as the daemon logs it.
bootstrap=""
for _ in $(seq 1 100); do
    bootstrap=$(grep 'component=kafka' "$daemon_log" | grep -o 'bootstrap=[^ ]*' | head -n1 | sed 's/^bootstrap=//; s/"//g' || true)
    [ -n "$bootstrap" ] && break
    sleep 0.1
done
[ -n "$bootstrap" ] || die "the daemon logged no 'bootstrap=' line from the kafka component"
ok "the embedded broker is at $bootstrap"

# The snapshot (5 rows), then 25 inserts, one update and one delete (a delete and its tombstone).
wait_kcat 5 60
ok "kcat reads the 5 snapshot rows from $topic"
psql_q "INSERT INTO public.orders SELECT g, 'insert ' || g, g * 2.25 FROM generate_series(6, 30) g;
        UPDATE public.orders SET note = 'updated' WHERE id = 2;
        DELETE FROM public.orders WHERE id = 3;"
expected=$((5 + 25 + 1 + 2))
wait_kcat "$expected" 60
sleep 1
n=$(kcat_count)
[ "$n" = "$expected" ] || die "kcat reads $n messages, expected exactly $expected"
ok "kcat reads $expected messages (5 r, 25 c, 1 u, 1 d, 1 tombstone)"

# ---- the Topics view in headless Chromium -------------------------------------------------------
newpw="kafka-console-$RANDOM-$RANDOM"
SLUICE_URL="$base" SLUICE_ONETIME="$onetime" SLUICE_NEW_PASSWORD="$newpw" \
SLUICE_VERSION_EXPECTED="$("$SLUICE_BIN" version | awk '{print $2}')" \
SLUICE_KAFKA_TOPIC="$topic" SLUICE_KAFKA_COUNT="$expected" SLUICE_KAFKA_EMBEDDED=1 SLUICE_KAFKA_TOMBSTONE=1 \
SHOT_DIR="${SLUICE_BUILD_DIR:-$test_tmp}" CHROMIUM="$chromium_bin" \
    node "$e2e/browser.mjs" || die "the browser test of the Topics view failed"
ok "headless Chromium shows the topic and its messages"

# ---- the API ------------------------------------------------------------------------------------
anon /api/v1/kafka/topics
expect_status 401 "GET /api/v1/kafka/topics without a session"
anon "/api/v1/kafka/topics/$topic/messages"
expect_status 401 "GET messages without a session"

login "$newpw"
req GET /api/v1/kafka/topics
expect_status 200 "GET /api/v1/kafka/topics"
expect_json 'j.embedded' true "topic list"
expect_json 'j.bootstrap' "$bootstrap" "topic list"
expect_json "j.topics.some(t => t.name === '$topic')" true "topic list names <prefix>.<schema>.<table>"
expect_json "j.topics.find(t => t.name === '$topic').messages" "$expected" "message count"
expect_json "j.topics.find(t => t.name === '$topic').partitions" 1 "partitions"
expect_json "JSON.stringify(j.topics.find(t => t.name === '$topic').partition_offsets)" \
    "[{\"partition\":0,\"low\":0,\"high\":$expected,\"messages\":$expected}]" "watermarks"
expect_json 'j.topics.every(t => !t.name.startsWith("__"))' true "internal topics hidden"
expect_json 'JSON.stringify(j.topics.map(t => t.name)) === JSON.stringify(j.topics.map(t => t.name).sort())' true "sorted by name"
req GET '/api/v1/kafka/topics?internal=true'
expect_status 200 "GET /api/v1/kafka/topics?internal=true"
expect_json "j.hidden_internal" 0 "internal=true hides nothing"
req GET '/api/v1/kafka/topics?internal=maybe'
expect_status 400 "GET /api/v1/kafka/topics?internal=maybe"

# The latest page (default limit 20): offsets expected-20 .. expected-1, the tombstone last.
req GET "/api/v1/kafka/topics/$topic/messages"
expect_status 200 "GET the latest messages"
expect_json 'j.messages.length' 20 "default page"
expect_json 'j.offset' $((expected - 20)) "default page"
expect_json 'j.next_offset' "$expected" "default page"
expect_json 'j.older_offset' $((expected - 40 > 0 ? expected - 40 : 0)) "default page"
expect_json 'j.messages.map(m => m.offset).join()' "$(seq -s, $((expected - 20)) $((expected - 1)))" "offsets in order"
expect_json 'j.messages[j.messages.length - 1].value' null "the tombstone's value"
expect_json 'JSON.parse(j.messages[j.messages.length - 1].key).id' 3 "the tombstone's key"
expect_json 'JSON.parse(j.messages[j.messages.length - 2].value).op' d "the delete before it"
expect_json 'JSON.parse(j.messages[j.messages.length - 2].value).before.id' 3 "the delete's before"
expect_json 'JSON.parse(j.messages[j.messages.length - 3].value).op' u "the update"
expect_json 'JSON.parse(j.messages[j.messages.length - 3].value).after.note' updated "the update's after"
expect_json 'j.messages.every(m => typeof m.timestamp === "number" && m.timestamp > 1.6e12 && m.partition === 0)' true "timestamps"
expect_json 'j.messages.every(m => Array.isArray(m.headers) && !m.value_escaped && !m.value_truncated)' true "flags"

# Every message from offset 0: Debezium values in order r x5, c x25, u, d, tombstone.
req GET "/api/v1/kafka/topics/$topic/messages?partition=0&offset=0&limit=100"
expect_status 200 "GET all messages"
expect_json 'j.messages.length' "$expected" "all messages"
expect_json 'j.messages.map(m => m.value === null ? "-" : JSON.parse(m.value).op).join("")' \
    "rrrrrcccccccccccccccccccccccccud-" "operations"
expect_json 'j.messages.slice(5, 30).every((m, i) => JSON.parse(m.value).after.id === i + 6 && JSON.parse(m.value).after.note === "insert " + (i + 6) && JSON.parse(m.value).before === null)' true "create events carry after"
expect_json 'j.messages.slice(0, 5).every((m, i) => JSON.parse(m.key).id === i + 1)' true "keys"
expect_json 'j.messages.slice(0, 32).every(m => { const v = JSON.parse(m.value); return v.source && v.source.connector === "postgresql" && v.source.name === "'"$prefix"'" && v.source.table === "orders" && typeof v.ts_ms === "number"; })' true "source block"
expect_json 'j.older_offset' null "the first page has no older page"
cp "$test_tmp/body" "$test_tmp/all.json"

# Paging: offset 10, limit 5; past the end; below the start.
req GET "/api/v1/kafka/topics/$topic/messages?offset=10&limit=5"
expect_status 200 "GET offset=10&limit=5"
expect_json 'j.messages.map(m => m.offset).join()' "10,11,12,13,14" "a page in the middle"
expect_json 'j.older_offset' 5 "a page in the middle"
expect_json 'j.next_offset' 15 "a page in the middle"
req GET "/api/v1/kafka/topics/$topic/messages?offset=1000"
expect_status 200 "GET offset past the end"
expect_json 'j.messages.length' 0 "past the end"

# The same offsets, keys and values as kcat reads.
kcat -C -b "$bootstrap" -t "$topic" -e -q -J >"$test_tmp/kcat.json" 2>/dev/null || die "kcat failed"
node -e '
    const fs = require("fs");
    const api = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).messages;
    const kc = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    if (api.length !== kc.length) { console.error(`API ${api.length} messages, kcat ${kc.length}`); process.exit(1); }
    kc.sort((a, b) => a.offset - b.offset);
    for (let i = 0; i < kc.length; i++) {
        const a = api[i], k = kc[i];
        if (a.offset !== k.offset || a.key !== k.key || a.value !== k.payload || a.timestamp !== k.ts) {
            console.error("offset " + k.offset + " differs:\nAPI  " + JSON.stringify(a) + "\nkcat " + JSON.stringify(k));
            process.exit(1);
        }
    }
' "$test_tmp/all.json" "$test_tmp/kcat.json" || die "the API and kcat disagree"
ok "the API returns the same offsets, keys, values and timestamps as kcat"

# Bad parameters, unknown topic.
for q in "partition=abc" "partition=-1" "limit=0" "limit=101" "limit=" "offset=-5" "offset=1e3" "partition=1"; do
    req GET "/api/v1/kafka/topics/$topic/messages?$q"
    expect_status 400 "GET messages?$q"
    json 'j.error' >/dev/null
done
req GET "/api/v1/kafka/topics/bad%20name/messages"
expect_status 400 "GET messages of an invalid topic name"
req GET "/api/v1/kafka/topics/$prefix.public.nosuch/messages"
expect_status 404 "GET messages of an unknown topic"
expect_json 'j.error' "topic not found: $prefix.public.nosuch" "unknown topic"
req GET /api/v1/kafka/topics
expect_json "j.topics.some(t => t.name === '$prefix.public.nosuch')" false "asking for an unknown topic does not create it"
req POST /api/v1/kafka/topics '{}'
expect_status 405 "POST /api/v1/kafka/topics"

# A viewer may browse (hash made by node, as in console_http.sh).
if command -v sqlite3 >/dev/null; then
    viewer_hash=$(node -e '
        const c = require("crypto"), salt = c.randomBytes(16);
        const dk = c.pbkdf2Sync("viewer password 1", salt, 210000, 32, "sha256");
        console.log("pbkdf2-sha256$210000$" + salt.toString("base64") + "$" + dk.toString("base64"));')
    sqlite3 "$test_tmp/kafka/sluice.db" "PRAGMA busy_timeout = 5000; INSERT INTO users
        (name, role, password_hash, must_change, created_at, updated_at)
        VALUES ('viewer1', 'viewer', '$viewer_hash', 0, 0, 0);" >/dev/null || die "cannot add a viewer"
    rm -f "$test_tmp/jar"
    req POST /api/v1/session '{"user":"viewer1","password":"viewer password 1"}'
    expect_status 200 "login as a viewer"
    req GET "/api/v1/kafka/topics/$topic/messages?limit=1"
    expect_status 200 "a viewer reads messages"
fi
daemon_stop
ok "sluice run with the embedded broker stopped"

# ---- Kafka off: 409 ------------------------------------------------------------------------------
port=$(free_port)
base="http://127.0.0.1:$port"
printf '[console]\nlisten = 127.0.0.1:%s\n' "$port" >"$test_tmp/off.conf"
daemon_start off "$test_tmp/off.conf"
login "$onetime" "$newpw"
req GET /api/v1/kafka/topics
expect_status 409 "GET /api/v1/kafka/topics with Kafka off"
expect_json 'j.error' "Kafka is not configured" "Kafka off"
req GET "/api/v1/kafka/topics/$topic/messages"
expect_status 409 "GET messages with Kafka off"
daemon_stop

echo "console_kafka: all $checks checks passed"
