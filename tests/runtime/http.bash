# Helpers for tests of the console's HTTP API (sourced after lib.bash): numbered checks, requests
# with a session cookie jar, and assertions on the status and on JSON bodies (evaluated by node).
# A failure calls die, which prints the last response body and the tail of $daemon_log.
command -v node >/dev/null || fail "node is not installed"
command -v curl >/dev/null || fail "curl is not installed"

checks=0
daemon_log=${daemon_log:-}
jar=$test_tmp/jar
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
die() {
    echo "FAIL: $*" >&2
    [ -f "$test_tmp/body" ] && { echo "--- last response body:" >&2; head -c 3000 "$test_tmp/body" >&2; echo >&2; }
    [ -n "$daemon_log" ] && { echo "--- daemon log (tail):" >&2; tail -n 40 "$daemon_log" >&2 || true; }
    exit 1
}

# req METHOD PATH [BODY]: request with the cookie jar $jar; sets $status, the body is in $test_tmp/body.
req() {
    local args=(-sS -o "$test_tmp/body" -w '%{http_code}' -X "$1" -b "$jar" -c "$jar")
    if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
    status=$(curl "${args[@]}" "$base$2") || die "curl $1 $2 failed"
}
# anon PATH: GET without a session.
anon() { status=$(curl -sS -o "$test_tmp/body" -w '%{http_code}' "$base$1") || die "curl GET $1 failed"; }
expect_status() { [ "$status" = "$1" ] || die "$2: expected HTTP $1, got $status"; ok "$2 -> $1"; }
# json EXPR: a JavaScript expression over the last body (bound to j); prints its value.
json() {
    node -e '
        const fs = require("fs");
        let j;
        try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
        catch (e) { console.error("body is not JSON: " + e.message); process.exit(2); }
        const v = (new Function("j", "return (" + process.argv[2] + ");"))(j);
        process.stdout.write(typeof v === "object" ? JSON.stringify(v) : String(v));
    ' "$test_tmp/body" "$1" || die "response body is not JSON"
}
# expect_json EXPR VALUE WHAT: json EXPR must print VALUE.
expect_json() {
    local v
    v=$(json "$1")
    [ "$v" = "$2" ] || die "$3: $1 is '$v', expected '$2'"
    ok "$3: $1 = $2"
}
