#!/usr/bin/env bash
# console_http: drives the console's HTTP API of a real `sluice run` with curl. Checks /healthz,
# /metrics (promtool), the static console and its security headers, login (failed logins are
# logged without the password), the one-time password change, status, settings (secrets never
# leave the appliance in plain text), error answers (400/401/403/404/405/413) and logout.
# Needs: SLUICE_BIN, curl, node (JSON checks), promtool (Debian package prometheus).
set -euo pipefail

: "${SLUICE_BIN:?SLUICE_BIN must point at the sluice binary}"
for tool in curl node promtool; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL: $tool is not installed (promtool: apt-get install prometheus)" >&2
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-console-http.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

checks=0
fail() {
    echo "FAIL: $*" >&2
    for f in headers body; do
        [ -f "$work/$f" ] && { echo "--- last response $f:" >&2; head -c 2000 "$work/$f" >&2; echo >&2; }
    done
    echo "--- daemon stderr (tail):" >&2
    tail -n 30 "$work/stderr" >&2 || true
    exit 1
}
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }

# A free loopback port (the kernel picks one, we release it and hand it to sluice).
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')
base="http://127.0.0.1:$port"

"$SLUICE_BIN" run --state-dir "$work/state" --listen "127.0.0.1:$port" \
    >"$work/stdout" 2>"$work/stderr" &
pid=$!

for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || fail "sluice run exited early"
    if curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then break; fi
    sleep 0.1
done

# ---- helpers ------------------------------------------------------------------------------------
# req METHOD PATH [BODY]: request with the cookie jar; sets $status, leaves $work/headers and body.
req() {
    local args=(-sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$1"
                -b "$work/jar" -c "$work/jar")
    if [ $# -ge 3 ]; then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
    status=$(curl "${args[@]}" "$base$2") || fail "curl $1 $2 failed"
}
# anon METHOD PATH [CURL ARGS...]: request without the jar.
anon() {
    local method=$1 path=$2
    shift 2
    status=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" "$@" \
             "$base$path") || fail "curl $method $path failed"
}
expect_status() { [ "$status" = "$1" ] || fail "$2: expected HTTP $1, got $status"; ok "$2 -> $1"; }
# header NAME: the value of response header NAME (case-insensitive), CR stripped.
header() { grep -i "^$1:" "$work/headers" | head -n1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
expect_header() {
    local v
    v=$(header "$1")
    case "$v" in *"$2"*) ok "$3: $1 has '$2'" ;; *) fail "$3: header $1 is '$v', expected '$2'" ;; esac
}
# json EXPR: evaluate a JavaScript expression over the last body (bound to j); prints the value.
json() {
    node -e '
        const fs = require("fs");
        let j;
        try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
        catch (e) { console.error("body is not JSON: " + e.message); process.exit(2); }
        const v = (new Function("j", "return (" + process.argv[2] + ");"))(j);
        process.stdout.write(typeof v === "object" ? JSON.stringify(v) : String(v));
    ' "$work/body" "$1" || fail "response body is not JSON"
}
expect_json() {
    local v
    v=$(json "$1")
    [ "$v" = "$2" ] || fail "$3: $1 is '$v', expected '$2'"
    ok "$3: $1 = $2"
}
body_lacks() { ! grep -qF -- "$1" "$work/body" || fail "$2: the response contains '$1'"; ok "$2"; }
security_headers() {
    expect_header X-Content-Type-Options nosniff "$1"
    expect_header X-Frame-Options DENY "$1"
}

# ---- probes and metrics -------------------------------------------------------------------------
anon GET /healthz
expect_status 200 "GET /healthz"
[ "$(cat "$work/body")" = "ok" ] || fail "/healthz body is not ok"
security_headers "/healthz"

anon GET /readyz
[ "$status" = 200 ] || [ "$status" = 503 ] || fail "/readyz answered $status"
ok "GET /readyz -> $status"
json 'Array.isArray(j.components)' | grep -qx true || fail "/readyz has no components array"

anon GET /metrics
expect_status 200 "GET /metrics"
expect_header Content-Type "text/plain; version=0.0.4" "/metrics"
promtool check metrics <"$work/body" || fail "promtool check metrics rejected /metrics"
ok "promtool check metrics accepts /metrics"

# ---- static console -----------------------------------------------------------------------------
anon GET /
expect_status 200 "GET /"
expect_header Content-Type "text/html" "GET /"
expect_header Content-Security-Policy "default-src 'self'" "GET /"
expect_header Cache-Control "no-cache" "GET /"
security_headers "GET /"
grep -q '<script src="/app.js"' "$work/body" || fail "index.html does not load app.js"
anon GET /app.js
expect_status 200 "GET /app.js"
expect_header Content-Type "text/javascript" "GET /app.js"
anon GET /app.css
expect_status 200 "GET /app.css"
anon GET /no-such-file.txt
expect_status 404 "GET /no-such-file.txt"

# ---- authentication -----------------------------------------------------------------------------
anon GET /api/v1/status
expect_status 401 "GET /api/v1/status without a session"
expect_header Content-Type "application/json" "401 answer"
expect_json 'j.error' "authentication required" "401 answer"
security_headers "401 answer"

onetime=$(sed -n 's/.*one-time password for admin: \([A-Za-z0-9]*\).*/\1/p' "$work/stdout" | head -n1)
[ -n "$onetime" ] || fail "sluice run printed no 'one-time password for admin: ...' line"
ok "the admin one-time password was printed"

wrong="Wr0ng-$RANDOM-$RANDOM-password"
req POST /api/v1/session "{\"user\":\"admin\",\"password\":\"$wrong\"}"
expect_status 401 "login with a wrong password"
expect_json 'j.error' "invalid user name or password" "wrong password"
! grep -q sluice_session "$work/headers" || fail "a failed login set a cookie"
req POST /api/v1/session "{\"user\":\"nobody\",\"password\":\"$wrong\"}"
expect_status 401 "login as an unknown user"
expect_json 'j.error' "invalid user name or password" "unknown user"
sleep 0.2
grep 'login failed' "$work/stderr" | grep -q 'admin' || fail "no log record of the failed login"
grep 'login failed' "$work/stderr" | grep -q '127.0.0.1' || fail "the failed-login record lacks the remote address"
ok "the failed login is logged with user and remote address"
! grep -qF -- "$wrong" "$work/stderr" "$work/stdout" || fail "the wrong password appears in the log"
ok "the log does not contain the wrong password"
anon GET /metrics
grep -Eq '^sluice_console_login_failures_total 2$' "$work/body" || fail "login failures not counted"
ok "sluice_console_login_failures_total counts the failures"

req POST /api/v1/session '{"user":"admin","password":' 
expect_status 400 "login with malformed JSON"
json 'j.error' | grep -qi 'malformed JSON' || fail "malformed JSON answer does not say so"
req POST /api/v1/session '{"user":"admin"}'
expect_status 400 "login without a password member"

req POST /api/v1/session "{\"user\":\"admin\",\"password\":\"$onetime\"}"
expect_status 200 "login with the one-time password"
cookie=$(header Set-Cookie)
case "$cookie" in sluice_session=*) ;; *) fail "no sluice_session cookie: $cookie" ;; esac
for attr in HttpOnly SameSite=Strict "Path=/" "Max-Age="; do
    case "$cookie" in *"$attr"*) ok "session cookie has $attr" ;; *) fail "cookie lacks $attr: $cookie" ;; esac
done
expect_json 'j.user' admin "login answer"
expect_json 'j.role' admin "login answer"
expect_json 'j.must_change' true "login answer"
token=$(printf '%s' "$cookie" | sed 's/^sluice_session=\([A-Za-z0-9]*\).*/\1/')
[ ${#token} -eq 43 ] || fail "session token has ${#token} characters, expected 43"

# ---- the one-time password must be changed first ------------------------------------------------
req GET /api/v1/status
expect_status 403 "GET /api/v1/status before the password change"
expect_json 'j.error' "password change required" "must-change answer"
req GET /api/v1/settings
expect_status 403 "GET /api/v1/settings before the password change"
req GET /api/v1/session
expect_status 200 "GET /api/v1/session while the change is pending"
expect_json 'j.must_change' true "session info"

newpw="console-test-$RANDOM-$RANDOM"
req POST /api/v1/session/password '{"current":"x","new":'
expect_status 400 "password change with malformed JSON"
json 'j.error' | grep -qi 'malformed JSON' || fail "malformed JSON answer does not say so"
req POST /api/v1/session/password "{\"current\":\"$onetime\",\"new\":\"short\"}"
expect_status 400 "password change to a too-short password"
json 'j.error' | grep -q '12' || fail "the too-short answer does not give the minimum"
req POST /api/v1/session/password "{\"current\":\"not-the-password\",\"new\":\"$newpw\"}"
expect_status 403 "password change with a wrong current password"
req POST /api/v1/session/password "{\"current\":\"$onetime\",\"new\":\"$newpw\"}"
expect_status 200 "password change"
expect_json 'j.must_change' false "password change answer"
! grep -qF -- "$newpw" "$work/stderr" || fail "the new password appears in the log"

# ---- status -------------------------------------------------------------------------------------
req GET /api/v1/status
expect_status 200 "GET /api/v1/status"
expect_header Content-Type "application/json" "status"
security_headers "status"
expected_version=$("$SLUICE_BIN" version | awk '{print $2}')
expect_json 'j.version' "$expected_version" "status"
expect_json 'typeof j.uptime_seconds' number "status"
expect_json 'typeof j.started' string "status"
expect_json 'Array.isArray(j.components) && j.components.length > 0' true "status"
expect_json 'j.components.every(c => typeof c.name === "string" && typeof c.state === "string")' true "status components"

req DELETE /api/v1/status
expect_status 405 "DELETE /api/v1/status"
expect_header Allow GET "405 answer"
req GET /api/v1/nope
expect_status 404 "GET /api/v1/nope"
expect_header Content-Type "application/json" "404 answer"
json 'j.error' >/dev/null

# ---- settings -----------------------------------------------------------------------------------
secret="S3cret-$RANDOM-$RANDOM-value"
req PUT /api/v1/settings/source.password "{\"value\":\"$secret\"}"
expect_status 200 "PUT source.password"
body_lacks "$secret" "the PUT answer hides the secret"
expect_json 'JSON.stringify(j.value)' '{"set":true}' "PUT answer"

req GET /api/v1/settings
expect_status 200 "GET /api/v1/settings"
body_lacks "$secret" "the settings list hides the secret"
expect_json 'JSON.stringify(j.settings.find(s => s.key === "source.password").value)' '{"set":true}' "settings list"
expect_json 'j.settings.every(s => typeof s.key === "string" && typeof s.type === "string" && "default" in s && "description" in s && "value" in s)' true "settings list"
expect_json 'j.settings.filter(s => s.type === "secret").every(s => typeof s.value === "object" && s.value !== null && Object.keys(s.value).join() === "set")' true "every secret"

req PUT /api/v1/settings/source.slot '{"value":"console_test_slot"}'
expect_status 200 "PUT source.slot"
expect_json 'j.value' console_test_slot "PUT answer"
req PUT /api/v1/settings/console.session_ttl '{"value":"banana"}'
expect_status 400 "PUT an invalid duration"
json 'j.error' | grep -q 'console.session_ttl' || fail "the 400 answer does not name the setting"
req PUT /api/v1/settings/no.such_setting '{"value":"1"}'
expect_status 404 "PUT an unknown setting"
req PUT /api/v1/settings/source.slot '{"value":'
expect_status 400 "PUT with malformed JSON"

head -c 70000 /dev/zero | tr '\0' 'a' >"$work/big"
status=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X PUT -b "$work/jar" \
         -H 'Content-Type: application/json' --data-binary @"$work/big" \
         "$base/api/v1/settings/source.slot") || fail "curl with a large body failed"
expect_status 413 "PUT with a 70000-byte body"

"$SLUICE_BIN" config export --state-dir "$work/state" >"$work/export.json" 2>"$work/export.err" \
    || { cat "$work/export.err" >&2; fail "sluice config export failed"; }
grep -q 'source.password' "$work/export.json" || fail "the export does not list source.password"
! grep -qF -- "$secret" "$work/export.json" || fail "the export contains the secret in plain text"
ok "config export keeps the secret sealed"
! grep -qaF -- "$secret" "$work/state"/sluice.db* || fail "the database holds the secret in plain text"
ok "the database does not hold the secret in plain text"
! grep -qF -- "$secret" "$work/stderr" "$work/stdout" || fail "the secret appears in the log"
ok "the log does not contain the secret"

# ---- audit trail (read with the sqlite3 shell when it is installed) ----------------------------
if command -v sqlite3 >/dev/null; then
    sqlite3 -readonly "$work/state/sluice.db" 'SELECT actor, action, ifnull(detail, "") FROM audit' \
        >"$work/audit" || fail "cannot read the audit table"
    for action in "admin|login.failed|remote=127.0.0.1" "nobody|login.failed" "admin|login|" \
                  "admin|password.change|" "admin|setting.set|source.password set (secret)" \
                  "admin|setting.set|source.slot=console_test_slot"; do
        grep -qF -- "$action" "$work/audit" || fail "no audit record '$action'"
    done
    ok "logins, failures, the password change and setting changes are audited"
    ! grep -qF -e "$secret" -e "$wrong" -e "$newpw" -e "$onetime" "$work/audit" \
        || fail "the audit table holds a password or secret"
    ok "the audit table holds no password or secret"

    # The stored hash is standard PBKDF2-HMAC-SHA256: node's own implementation agrees with it.
    stored=$(sqlite3 -readonly "$work/state/sluice.db" "SELECT password_hash FROM users WHERE name = 'admin'")
    node -e '
        const [scheme, iter, salt, dk] = process.argv[1].split("$");
        const want = Buffer.from(dk, "base64");
        const got = require("crypto").pbkdf2Sync(process.argv[2], Buffer.from(salt, "base64"),
                                                 Number(iter), want.length, "sha256");
        process.exit(scheme === "pbkdf2-sha256" && Number(iter) >= 100000 && got.equals(want) ? 0 : 1);
    ' "$stored" "$newpw" || fail "the stored hash is not PBKDF2-HMAC-SHA256 of the password"
    ok "node's PBKDF2 verifies the stored admin hash"

    # A viewer (hash made by node) may read but not change settings.
    viewer_hash=$(node -e '
        const c = require("crypto"), salt = c.randomBytes(16);
        const dk = c.pbkdf2Sync("viewer password 1", salt, 210000, 32, "sha256");
        console.log("pbkdf2-sha256$210000$" + salt.toString("base64") + "$" + dk.toString("base64"));')
    sqlite3 "$work/state/sluice.db" "PRAGMA busy_timeout = 5000; INSERT INTO users
        (name, role, password_hash, must_change, created_at, updated_at)
        VALUES ('viewer1', 'viewer', '$viewer_hash', 0, 0, 0);" >/dev/null || fail "cannot add a viewer"
    cp "$work/jar" "$work/jar.admin"
    req POST /api/v1/session '{"user":"viewer1","password":"viewer password 1"}'
    expect_status 200 "login as a viewer"
    expect_json 'j.role' viewer "viewer login"
    req GET /api/v1/settings
    expect_status 200 "a viewer reads the settings"
    req PUT /api/v1/settings/source.slot '{"value":"viewer_slot"}'
    expect_status 403 "a viewer changes a setting"
    json 'j.error' | grep -q 'admin' || fail "the 403 answer does not name the role needed"
    req DELETE /api/v1/session
    cp "$work/jar.admin" "$work/jar"
else
    echo "skip - sqlite3 shell not installed: audit records, hash format and roles not checked"
fi

# ---- metrics after traffic ----------------------------------------------------------------------
anon GET /metrics
grep -q '^sluice_http_requests_total{code="401"}' "$work/body" || fail "401 answers not counted"
grep -q '^sluice_http_requests_total{code="200"}' "$work/body" || fail "200 answers not counted"
ok "sluice_http_requests_total counts by code"
promtool check metrics <"$work/body" || fail "promtool check metrics rejected /metrics after traffic"
ok "promtool check metrics accepts /metrics after traffic"

# ---- logout -------------------------------------------------------------------------------------
req DELETE /api/v1/session
expect_status 200 "logout"
expect_header Set-Cookie "Max-Age=0" "logout clears the cookie"
anon GET /api/v1/status -H "Cookie: sluice_session=$token"
expect_status 401 "the old session token after logout"
req GET /api/v1/status
expect_status 401 "GET /api/v1/status after logout"

# The new password works and the one-time password no longer does.
req POST /api/v1/session "{\"user\":\"admin\",\"password\":\"$onetime\"}"
expect_status 401 "login with the spent one-time password"
req POST /api/v1/session "{\"user\":\"admin\",\"password\":\"$newpw\"}"
expect_status 200 "login with the new password"
expect_json 'j.must_change' false "login answer"

echo "console_http: all $checks checks passed"
