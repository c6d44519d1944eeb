#!/usr/bin/env bash
# console_rules: transformation rules through the console's API (and the Rules view in headless
# Chromium) against a real `sluice run` capturing a test PostgreSQL into a file sink. Rows are
# inserted first so the daemon's sample of recent events holds them; then, with curl and a session
# cookie:
#  - versions are created (author = the session's user, comment, pattern), a draft that does not
#    compile is refused with 422 and the Lua message, nothing stored;
#  - dry runs on the captured events: per-event before (the event as captured) and after (the
#    result: masked, dropped = null, or the error), only the tables of the pattern;
#  - activating a version whose dry run fails on a sampled event is refused (422, the failing
#    event listed) and nothing changes; activating a good one makes the pipeline apply it (the file
#    sink shows masked events after, unmasked before); an event it cannot transform becomes a dead
#    letter listed by the API; rolling back restores the old behaviour; version 0 turns it off;
#  - the diff of two versions is the unified diff GNU diff -u makes of the same sources;
#  - roles: a viewer reads but cannot create, dry-run or activate (403); an operator can;
#  - bad inputs: malformed JSON and missing fields (400), unknown rules and versions (404).
# Needs: SLUICE_BIN, PostgreSQL 15, curl, node, jq, sqlite3, diff; chromium + `npm ci` in tests/e2e
# for the browser part.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/sluice.bash"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e="$here/../e2e"
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
for tool in curl node sqlite3 diff; do
    command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ -x "$chromium_bin" ] || fail "$chromium_bin is missing (apt-get install chromium)"
[ -d "$e2e/node_modules/playwright-core" ] || fail "$e2e/node_modules/playwright-core is missing (npm ci --prefix $e2e)"

source "$(dirname "$0")/http.bash"
daemon_log=$test_tmp/c.log
# body_json KEY=FILE...: a JSON object whose members are the contents of the files (strings), plus
# the raw JSON members given as KEY:=VALUE.
body_json() {
    node -e '
        const fs = require("fs"), o = {};
        for (const a of process.argv.slice(1)) {
            const raw = a.indexOf(":=");
            if (raw > 0 && (a.indexOf("=") === raw + 1)) o[a.slice(0, raw)] = JSON.parse(a.slice(raw + 2));
            else { const i = a.indexOf("="); o[a.slice(0, i)] = fs.readFileSync(a.slice(i + 1), "utf8"); }
        }
        process.stdout.write(JSON.stringify(o));
    ' "$@"
}
# login USER PASSWORD: a fresh session in $jar.
login() {
    rm -f "$jar"
    req POST /api/v1/session "{\"user\":\"$1\",\"password\":\"$2\"}"
    [ "$status" = 200 ] || die "login as $1 failed with HTTP $status"
}
# add_user NAME ROLE PASSWORD: straight into the store (there is no user API yet), hash by node.
add_user() {
    local hash
    hash=$(node -e '
        const c = require("crypto"), salt = c.randomBytes(16);
        const dk = c.pbkdf2Sync(process.argv[1], salt, 210000, 32, "sha256");
        console.log("pbkdf2-sha256$210000$" + salt.toString("base64") + "$" + dk.toString("base64"));' "$3")
    sqlite3 "$state/sluice.db" "PRAGMA busy_timeout = 5000; INSERT INTO users
        (name, role, password_hash, must_change, created_at, updated_at)
        VALUES ('$1', '$2', '$hash', 0, 0, 0);" >/dev/null || die "cannot add user $1"
}
out=$test_tmp/changes.jsonl
# wait_order ID: until the file sink holds the newest event of orders row ID; prints it.
wait_order() {
    local i line
    for ((i = 0; i < 300; i++)); do
        line=$(jq -c "select(.source.table == \"orders\" and (.after.id // .before.id) == $1)" "$out" 2>/dev/null | tail -n1 || true)
        [ -n "$line" ] && { echo "$line"; return 0; }
        sluice_check_alive
        sleep 0.1
    done
    die "timed out waiting for orders row $1 in the file sink"
}
# The next transaction after an activation picks it up (the rules stage checks at most once a second).
settle() { sleep 1.3; }

# ---- a source with two tables, a daemon with a file sink ----------------------------------------
pg_start
psql_q "CREATE TABLE public.orders (id int PRIMARY KEY, email text, amount numeric(10,2));
        CREATE TABLE public.audit (id int PRIMARY KEY, note text);"
sluice_start c "file.path=$out"
state=$test_tmp/c.state
base="http://127.0.0.1:${sluice_port[c]}"
wait_slot_active c 60
onetime=$(sed -n 's/.*one-time password for admin: \([A-Za-z0-9]*\).*/\1/p' "$test_tmp/c.log" | head -n1)
[ -n "$onetime" ] || die "sluice run printed no one-time password"

# Five orders (one with a negative amount) and two audit rows: the sample the dry runs use.
psql_q "INSERT INTO orders VALUES (1, 'Ann@Example.com', 10.50), (2, 'bob@example.com', 20.00),
        (3, 'cy@example.com', 30.25), (4, 'dee@example.com', 40.00), (5, 'eve@example.com', -5.00);
        INSERT INTO audit VALUES (1, 'first'), (2, 'second');"
wait_order 5 >/dev/null
jq -e 'select(.source.table == "audit" and .after.id == 2)' "$out" >/dev/null ||
    { sleep 1; jq -e 'select(.source.table == "audit" and .after.id == 2)' "$out" >/dev/null; } ||
    die "the audit rows did not reach the file sink"
ok "7 captured changes reached the file sink"

# ---- the Rules view in headless Chromium --------------------------------------------------------
newpw="rules-console-$RANDOM-$RANDOM"
SLUICE_URL="$base" SLUICE_ONETIME="$onetime" SLUICE_NEW_PASSWORD="$newpw" \
SLUICE_VERSION_EXPECTED="$("$SLUICE_BIN" version | awk '{print $2}')" \
SLUICE_RULES_TABLE=public.audit SLUICE_RULES_EVENTS=2 \
SHOT_DIR="${SLUICE_BUILD_DIR:-$test_tmp}" CHROMIUM="$chromium_bin" \
    node "$e2e/browser.mjs" || die "the browser test of the Rules view failed"
ok "headless Chromium: Rules view, dry run, save, activate"

# ---- the API ------------------------------------------------------------------------------------
rm -f "$jar"
req GET /api/v1/rules
expect_status 401 "GET /api/v1/rules without a session"
login admin "$newpw"
req GET /api/v1/rules
expect_status 200 "GET /api/v1/rules"
expect_json 'j.sample.events >= 7' true "the sample holds the captured events"
expect_json 'j.sample.tables' 2 "the sample's tables"
expect_json "j.rules.map(r => r.name + ':' + r.active_version + ':' + r.latest).join()" "browser_audit:1:1" \
    "the browser's rule is listed, active"

cat >"$test_tmp/v1.lua" <<'LUA'
-- mask the customer's e-mail
function transform(e)
  if e.after and e.after.email then
    e.after.email = sluice.mask_email(e.after.email)
  end
  return e
end
LUA
cat >"$test_tmp/v2.lua" <<'LUA'
-- mask the customer's e-mail
function transform(e)
  if e.after and tonumber(e.after.amount) < 0 then
    error("negative amount " .. e.after.amount)
  end
  if e.after and e.after.email then
    e.after.email = sluice.mask_email(e.after.email)
  end
  return e
end
LUA
cat >"$test_tmp/v3.lua" <<'LUA'
-- mask the customer's e-mail
function transform(e)
  if e.after and tonumber(e.after.amount) > 1000 then
    error("amount too large: " .. e.after.amount)
  end
  if e.after and e.after.email then
    e.after.email = sluice.mask_email(e.after.email)
  end
  return e
end
LUA
cat >"$test_tmp/drop.lua" <<'LUA'
function transform(e)
  if e.after and e.after.id == 2 then return nil end
  e.after.tag = "seen"
  return e
end
LUA
printf 'function transform(e)\n  return e +\nend\n' >"$test_tmp/broken.lua"
printf 'local x = 1\n' >"$test_tmp/notransform.lua"
printf 'public.orders' >"$test_tmp/pattern"
printf 'mask e-mails' >"$test_tmp/c1"
printf 'refuse negative amounts' >"$test_tmp/c2"
printf 'refuse huge amounts' >"$test_tmp/c3"

# Versions.
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/v1.lua" pattern="$test_tmp/pattern" comment="$test_tmp/c1")"
expect_status 201 "POST version 1 of rule orders"
expect_json 'j.version' 1 "version 1"
expect_json 'j.author' admin "the author is the session's user"
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/broken.lua" comment="$test_tmp/c1")"
expect_status 422 "a version that does not compile"
expect_json '/^rule orders: orders:3: unexpected symbol near .end./.test(j.error)' true "the Lua message names the rule and line"
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/notransform.lua")"
expect_status 422 "a version without transform"
expect_json 'j.error.includes("transform")' true "the reason names transform"
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/v2.lua" comment="$test_tmp/c2")"
expect_status 201 "POST version 2 (pattern kept)"
expect_json 'j.version + ":" + j.pattern' "2:public.orders" "version 2 keeps the pattern"
req GET /api/v1/rules/orders
expect_status 200 "GET /api/v1/rules/orders"
expect_json 'j.versions.map(v => v.version).join()' "2,1" "the failed drafts were not stored; newest first"
expect_json 'j.versions.every(v => v.author === "admin" && v.created_at > 1.6e9)' true "author and time"
expect_json 'j.versions[1].comment' "mask e-mails" "comment"
expect_json 'j.active_version' null "nothing active yet"
req GET '/api/v1/rules/orders?version=2'
expect_status 200 "GET one version"
expect_json 'j.versions.length + ":" + j.versions[0].source.includes("negative amount")' "1:true" "its source"

# Dry runs on the captured events.
req POST /api/v1/rules/orders/dry-run '{"version":1}'
expect_status 200 "dry run of version 1"
expect_json 'j.events + ":" + j.errors + ":" + j.dropped' "5:0:0" "5 orders, no errors (the audit rows are not in the pattern)"
expect_json 'j.results.every(r => r.table === "public.orders")' true "only the pattern's table"
expect_json 'j.results[0].before.op + ":" + j.results[0].before.after.email + ":" + j.results[0].before.source.table' \
    "c:Ann@Example.com:orders" "before is the captured event"
expect_json 'j.results[0].after.length + ":" + /\*/.test(j.results[0].after[0].after.email) + ":" + j.results[0].after[0].after.id' \
    "1:true:1" "after is the transformed event (masked)"
req POST /api/v1/rules/orders/dry-run "$(body_json source="$test_tmp/drop.lua")"
expect_status 200 "dry run of an unsaved draft"
expect_json 'j.version' null "a draft has no version"
expect_json 'j.dropped + ":" + j.results.find(r => r.before.after.id === 2).after' "1:null" "a dropped event's after is null"
expect_json 'j.results.find(r => r.before.after.id === 3).after[0].after.tag' seen "a changed event"
req POST /api/v1/rules/orders/dry-run '{"version":2}'
expect_status 200 "dry run of version 2"
expect_json 'j.errors' 1 "version 2 fails on one event"
expect_json 'j.results.filter(r => r.error).map(r => r.before.after.id + ":" + r.after).join()' "5:null" "the failing event"
expect_json '/orders:4: negative amount -5/.test(j.results.find(r => r.error).error)' true "its error"
req POST /api/v1/rules/newrule/dry-run "$(body_json source="$test_tmp/v1.lua" pattern:='"public.audit"')"
expect_status 200 "dry run of a draft of a rule not stored yet"
expect_json 'j.events + ":" + j.results.every(r => r.table === "public.audit")' "2:true" "its pattern's events"
req POST /api/v1/rules/orders/dry-run "$(body_json source="$test_tmp/broken.lua")"
expect_status 422 "dry run of a draft that does not compile"
expect_json 'j.error.includes("unexpected symbol")' true "the Lua message"
req POST /api/v1/rules/orders/dry-run '{"version":2,"limit":1}'
expect_json 'j.results.length + ":" + j.truncated + ":" + j.events' "1:true:5" "limit lists fewer, counts all"

# Activation: refused when the dry run fails, then version 1 applies in the pipeline.
req POST /api/v1/rules/orders/activate '{"version":2}'
expect_status 422 "activating version 2 (its dry run fails)"
expect_json 'j.error.includes("fails its dry run on 1 of 5")' true "the reason"
expect_json 'j.failures.map(f => f.before.after.id).join() + ":" + /negative/.test(j.failures[0].error)' "5:true" "the failing event is reported"
req GET /api/v1/rules/orders
expect_json 'j.active_version' null "a refused activation changes nothing"
req POST /api/v1/rules/orders/activate '{"version":1}'
expect_status 200 "activating version 1"
expect_json 'j.active_version + ":" + j.change + ":" + j.dry_run.events + ":" + j.dry_run.errors' "1:activated:5:0" "activation answer"
settle
psql_q "INSERT INTO orders VALUES (6, 'frank@example.com', 60.00)"
ev=$(wait_order 6)
[[ "$(jq -r .after.email <<<"$ev")" == *"*"* ]] || die "after activation the e-mail is not masked: $ev"
ok "the pipeline applies version 1 (row 6 masked: $(jq -r .after.email <<<"$ev"))"
ev=$(wait_order 1)
[ "$(jq -r .after.email <<<"$ev")" = "Ann@Example.com" ] || die "an event captured before the activation changed: $ev"
ok "events before the activation were not masked"

# Version 3 fails only on amounts above 1000: none in the sample, so it activates; then a dead letter.
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/v3.lua" comment="$test_tmp/c3")"
expect_status 201 "POST version 3"
req POST /api/v1/rules/orders/activate '{"version":3}'
expect_status 200 "activating version 3"
settle
psql_q "INSERT INTO orders VALUES (7, 'gil@example.com', 5000.00)"
psql_q "INSERT INTO orders VALUES (8, 'hal@example.com', 80.00)"
ev=$(wait_order 8)
[[ "$(jq -r .after.email <<<"$ev")" == *"*"* ]] || die "version 3 does not mask: $ev"
jq -e 'select(.source.table == "orders" and .after.id == 7)' "$out" >/dev/null && die "row 7 (a dead letter) reached the sink"
ok "version 3 applies; row 7 did not reach the sink"
req GET '/api/v1/rules/dead-letters?limit=5'
expect_status 200 "GET /api/v1/rules/dead-letters"
expect_json 'j.dead_letters.length' 1 "one dead letter"
expect_json 'j.dead_letters[0].rule + ":" + j.dead_letters[0].version + ":" + j.dead_letters[0].table' \
    "orders:3:public.orders" "rule, version, table"
expect_json '/amount too large: 5000/.test(j.dead_letters[0].error) + ":" + j.dead_letters[0].event.after.id' "true:7" \
    "error and the captured event"

# Rollback to version 1: large amounts pass again.
req POST /api/v1/rules/orders/activate '{"version":1}'
expect_status 200 "rolling back to version 1"
expect_json 'j.change + ":" + j.previous_version' "rolled back:3" "a rollback"
settle
psql_q "INSERT INTO orders VALUES (9, 'ida@example.com', 9000.00)"
ev=$(wait_order 9)
[[ "$(jq -r .after.email <<<"$ev")" == *"*"* ]] || die "after the rollback row 9 is not masked: $ev"
ok "after the rollback a large amount passes, masked"
req GET '/api/v1/rules/dead-letters'
expect_json 'j.dead_letters.length' 1 "no new dead letter after the rollback"

# Replay of the dead letter through version 1: requested now, performed at the next transaction.
dead_id=$(json 'j.dead_letters[0].id')
expect_json 'j.dead_letters[0].replay_state + ":" + j.dead_letters[0].replayable' "none:true" "replayable, not requested"
req POST /api/v1/rules/dead-letters/replay "{\"ids\":[$dead_id]}"
expect_status 202 "POST a replay of dead letter $dead_id"
expect_json 'j.requested + ":" + j.already + ":" + /next transaction/.test(j.note) + ":" + /idle source/.test(j.note)' \
    "1:0:true:true" "one requested; the answer says when it happens"
req GET '/api/v1/rules/dead-letters'
expect_json 'j.dead_letters[0].replay_state' requested "the dead letter is requested"
# Nothing changes at the source from here: the daemon writes the transaction that carries it.
ev=$(wait_order 7)
[[ "$(jq -r .after.email <<<"$ev")" == *"*"* && "$(jq -r .after.amount <<<"$ev")" = 5000.00 ]] ||
    die "the replayed row 7 is not version 1's output: $ev"
grep -q "wrote a transaction for work that waits for one" "$daemon_log" ||
    die "row 7 was replayed without the transaction the daemon writes for it: $ev"
ok "the dead letter reached the sink through version 1, in a transaction the daemon wrote on the idle source"
req GET '/api/v1/rules/dead-letters'
expect_json 'j.dead_letters[0].replay_state + ":" + j.dead_letters[0].replay_result + ":" + /^[0-9A-F]+\/[0-9A-F]+$/.test(j.dead_letters[0].replay_lsn)' \
    "replayed:transformed by orders v1 into 1 event(s):true" "the dead letter shows its replay"
req POST /api/v1/rules/dead-letters/replay "{\"ids\":[$dead_id]}"
expect_json 'j.requested + ":" + j.already' "0:1" "a replayed dead letter is not replayed again"
req POST /api/v1/rules/dead-letters/replay '{"ids":[999999]}'
expect_status 404 "a replay of an unknown dead letter"
req POST /api/v1/rules/dead-letters/replay '{}'
expect_status 400 "a replay of nothing"
req POST /api/v1/rules/dead-letters/replay '{"ids":[1],"rule":"orders"}'
expect_status 400 "a replay of ids and a rule at once"
req POST /api/v1/rules/dead-letters/replay '{"ids":["1"]}'
expect_status 400 "ids that are not numbers"
req POST /api/v1/rules/dead-letters/replay '{"rule":"orders"}'
expect_status 202 "a replay of every dead letter of a rule"
expect_json 'j.requested + ":" + j.already' "0:1" "nothing left to replay of rule orders"

# Diff: the same hunks as GNU diff -u.
req GET '/api/v1/rules/orders/diff?from=1&to=2'
expect_status 200 "GET the diff of versions 1 and 2"
json 'j.diff' >"$test_tmp/api.diff"
diff -u "$test_tmp/v1.lua" "$test_tmp/v2.lua" | tail -n +3 >"$test_tmp/gnu.diff" || true
head -n 2 "$test_tmp/api.diff" | tr '\n' '|' | grep -qx -- '--- orders v1|+++ orders v2|' || die "diff headers: $(head -n 2 "$test_tmp/api.diff")"
tail -n +3 "$test_tmp/api.diff" | cmp -s - "$test_tmp/gnu.diff" ||
    die "the diff differs from GNU diff -u: $(tail -n +3 "$test_tmp/api.diff" | diff - "$test_tmp/gnu.diff")"
ok "the diff of v1 and v2 is what diff -u makes"
req GET '/api/v1/rules/orders/diff?from=2&to=3'
json 'j.diff' >"$test_tmp/api.diff"
diff -u "$test_tmp/v2.lua" "$test_tmp/v3.lua" | tail -n +3 >"$test_tmp/gnu.diff" || true
tail -n +3 "$test_tmp/api.diff" | cmp -s - "$test_tmp/gnu.diff" || die "the diff of v2 and v3 differs from GNU diff -u"
expect_json 'j.changes' 4 "v2 -> v3 changes 4 lines"
req GET '/api/v1/rules/orders/diff?from=1&to=1'
expect_json 'j.diff + ":" + j.changes' ":0" "a version against itself"
req GET '/api/v1/rules/orders/diff?from=0&to=1'
expect_json 'j.diff.split("\n").filter(l => l.startsWith("+") && !l.startsWith("+++")).length' 7 "from 0: every line added"

# Deactivation.
req POST /api/v1/rules/orders/activate '{"version":0}'
expect_status 200 "version 0 deactivates"
expect_json 'j.active_version + ":" + j.change' "null:deactivated" "deactivated"
settle
psql_q "INSERT INTO orders VALUES (10, 'jo@example.com', 1.00)"
ev=$(wait_order 10)
[ "$(jq -r .after.email <<<"$ev")" = "jo@example.com" ] || die "after deactivation row 10 changed: $ev"
ok "after deactivation events pass unchanged"

# Audit.
audit=$(sqlite3 "$state/sluice.db" "PRAGMA busy_timeout = 5000; SELECT actor || ' ' || action || ' ' || detail FROM audit ORDER BY id")
grep -q "admin rule.version orders v3" <<<"$audit" || die "no audit record of version 3: $audit"
grep -q "admin rule.activate orders v1 rolled back (was v3)" <<<"$audit" || die "no audit record of the rollback: $audit"
grep -q "admin rule.replay ids: 1 requested" <<<"$audit" || die "no audit record of the replay: $audit"
ok "versions and activations are audited"

# ---- roles --------------------------------------------------------------------------------------
add_user viewer1 viewer "viewer password 1"
add_user oper1 operator "operator password 1"
login viewer1 "viewer password 1"
req GET /api/v1/rules
expect_status 200 "a viewer lists the rules"
req GET /api/v1/rules/orders
expect_status 200 "a viewer reads a rule"
req GET /api/v1/rules/dead-letters
expect_status 200 "a viewer reads the dead letters"
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/v1.lua")"
expect_status 403 "a viewer cannot create a version"
req POST /api/v1/rules/orders/activate '{"version":1}'
expect_status 403 "a viewer cannot activate"
req POST /api/v1/rules/orders/dry-run '{"version":1}'
expect_status 403 "a viewer cannot dry-run"
req POST /api/v1/rules/dead-letters/replay '{"all":true}'
expect_status 403 "a viewer cannot request a replay"
login oper1 "operator password 1"
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/v1.lua" comment="$test_tmp/c1")"
expect_status 201 "an operator creates a version"
expect_json 'j.version + ":" + j.author' "4:oper1" "the operator is its author"
req POST /api/v1/rules/orders/activate '{"version":4}'
expect_status 200 "an operator activates"
login admin "$newpw"

# ---- bad inputs ---------------------------------------------------------------------------------
req POST /api/v1/rules/orders/versions '{"source": "function transform(e) return e end",'
expect_status 400 "malformed JSON"
req POST /api/v1/rules/orders/versions '{"comment":"no source"}'
expect_status 400 "a version without source"
req POST /api/v1/rules/orders/versions '{"source":42}'
expect_status 400 "source not a string"
req POST /api/v1/rules/fresh/versions "$(body_json source="$test_tmp/v1.lua")"
expect_status 400 "a new rule without a pattern"
req POST '/api/v1/rules/bad%20name/versions' "$(body_json source="$test_tmp/v1.lua" pattern="$test_tmp/pattern")"
expect_status 400 "a bad rule name"
req POST /api/v1/rules/orders/versions "$(body_json source="$test_tmp/v1.lua" pattern:='"public orders"')"
expect_status 400 "a bad pattern"
req GET /api/v1/rules/nosuch
expect_status 404 "an unknown rule"
req GET '/api/v1/rules/orders?version=99'
expect_status 404 "an unknown version"
req GET '/api/v1/rules/orders?version=x'
expect_status 400 "a version that is not a number"
req POST /api/v1/rules/orders/activate '{"version":99}'
expect_status 404 "activating an unknown version"
req POST /api/v1/rules/nosuch/activate '{"version":1}'
expect_status 404 "activating an unknown rule"
req POST /api/v1/rules/orders/activate '{}'
expect_status 400 "activating without a version"
req POST /api/v1/rules/orders/activate '{"version":"1"}'
expect_status 400 "a version given as a string"
req POST /api/v1/rules/orders/dry-run '{}'
expect_status 400 "a dry run of nothing"
req POST /api/v1/rules/orders/dry-run '{"version":99}'
expect_status 404 "a dry run of an unknown version"
req POST /api/v1/rules/nosuch/dry-run "$(body_json source="$test_tmp/v1.lua")"
expect_status 400 "a draft of a new rule without a pattern"
req GET '/api/v1/rules/orders/diff?from=1'
expect_status 400 "a diff without to"
req GET '/api/v1/rules/orders/diff?from=1&to=99'
expect_status 404 "a diff with an unknown version"
req GET '/api/v1/rules/nosuch/diff?from=1&to=2'
expect_status 404 "a diff of an unknown rule"
req GET '/api/v1/rules/dead-letters?limit=0'
expect_status 400 "a dead-letter limit of 0"
req DELETE /api/v1/rules/orders
expect_status 405 "DELETE a rule"

sluice_check_alive
sluice_stop c
echo "console_rules: all $checks checks passed"
