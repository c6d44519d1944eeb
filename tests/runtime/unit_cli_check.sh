#!/usr/bin/env bash
# `sluice check`: every problem of a broken file named with file, line and setting; unknown
# settings and mistyped SLUICE_* variables are errors; a good file passes; usage and --help.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

conf="$test_tmp/broken.conf"
cat >"$conf" <<'CONF'
# a broken configuration
[console]
listen = 127.0.0.1:99999
session_ttl = forever

[log]
level = loud
colour = yes

[source]
slot = "Bad Slot"
this line has no equals sign
CONF

rc=0
out=$("$SLUICE_BIN" check --config "$conf" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "check on a broken file exited $rc, want 1"
grep -q "$conf:3: console.listen:" <<<"$out" || fail "bad port not reported at line 3"
grep -q "$conf:4: console.session_ttl:" <<<"$out" || fail "bad duration not reported at line 4"
grep -q "$conf:7: log.level:" <<<"$out" || fail "bad enum not reported at line 7"
grep -q "$conf:8: log.colour: unknown setting" <<<"$out" || fail "unknown setting not reported at line 8"
grep -q "$conf:11: source.slot:" <<<"$out" || fail "bad slot name not reported at line 11"
grep -q "$conf:12:" <<<"$out" || fail "syntax error not reported at line 12"
pass "broken file: every problem with file:line: setting"

good="$test_tmp/good.conf"
cat >"$good" <<'CONF'
[console]
listen = 127.0.0.1:8081   # trailing comment
session_ttl = 2h
[source]
conninfo = "host=db.example port=5432 dbname=app # not a comment"
CONF
out=$("$SLUICE_BIN" check --config "$good") || fail "good file rejected: $out"
grep -q "configuration ok: 3 setting" <<<"$out" || fail "unexpected output: $out"
pass "good file accepted"

rc=0
out=$(SLUICE_CONSOLE_LISTN=x "$SLUICE_BIN" check --config "$good" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "mistyped SLUICE_ variable accepted (rc $rc)"
grep -q "environment SLUICE_CONSOLE_LISTN" <<<"$out" || fail "mistyped variable not named: $out"
rc=0
out=$(SLUICE_LOG_LEVEL=verbose "$SLUICE_BIN" check --config "$good" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "SLUICE_LOG_LEVEL: log.level" <<<"$out" || fail "bad env value not reported: $out"
pass "environment variables checked"

rc=0
"$SLUICE_BIN" check --config "$test_tmp/missing.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "missing file not an error (rc $rc)"
rc=0
"$SLUICE_BIN" check --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown option not a usage error (rc $rc)"
for cmd in run demo check config user version capture snapshot; do
    "$SLUICE_BIN" $cmd --help | grep -q "usage: sluice" || fail "$cmd --help prints no usage"
done
"$SLUICE_BIN" --help | grep -q "usage: sluice" || fail "--help prints no usage"
"$SLUICE_BIN" version | grep -Eq '^sluice [0-9]+\.[0-9]+\.[0-9]+$' || fail "version output"
pass "usage errors and --help"
