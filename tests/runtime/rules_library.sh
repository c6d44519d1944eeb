#!/usr/bin/env bash
# `sluice rules test`: every rule shipped in lua/ passes its fixtures; and failures are reported
# clearly: a syntax error (file and line), a wrong expectation (path, want and got), a rule that
# never ends (the instruction limit), a missing or malformed fixture file; usage and --help.
set -euo pipefail
source "$(dirname "$0")/lib.bash"

lua_dir="$SLUICE_REPO/lua"
rules=("$lua_dir"/*.lua)
[ "${#rules[@]}" -ge 4 ] || fail "expected the rule library in $lua_dir, found ${#rules[@]} rule(s)"
for r in pii_mask pii_steps normalize soft_delete currency; do
    [ -f "$lua_dir/$r.lua" ] && [ -f "$lua_dir/$r.test.json" ] || fail "lua/$r.lua or its fixtures missing"
done

rc=0
out=$("$SLUICE_BIN" rules test "${rules[@]}" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "the shipped rules do not pass their fixtures (exit $rc)"
grep -q '^FAIL' <<<"$out" && fail "a shipped rule has a failing case"
cases=$(grep -c '^ok   ' <<<"$out")
[ "$cases" -ge 30 ] || fail "only $cases cases ran"
grep -q "^${#rules[@]} rule file(s): $cases passed, 0 failed$" <<<"$out" || fail "no summary line"
for r in pii_mask pii_steps normalize soft_delete currency; do
    grep -q "^$lua_dir/$r.lua: [0-9]* passed, 0 failed$" <<<"$out" || fail "no result for $r.lua"
done
pass "library: ${#rules[@]} rules, $cases cases pass"

# Every shipped fixture file covers an expected error.
for f in "$lua_dir"/*.test.json; do
    grep -q '"expect_error"' "$f" || fail "$f has no expect_error case"
done

# A syntax error: exit 1, the message names the file and the line.
work="$test_tmp/rules"
mkdir -p "$work"
cp "$lua_dir/soft_delete.lua" "$lua_dir/soft_delete.test.json" "$work/"
line=$(grep -n 'event.op = "u"' "$work/soft_delete.lua" | cut -d: -f1)
[ -n "$line" ] || fail "soft_delete.lua changed: no line to break"
sed -i "${line}s/event.op = \"u\"/event.op = = \"u\"/" "$work/soft_delete.lua"
rc=0
out=$("$SLUICE_BIN" rules test "$work/soft_delete.lua" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "a rule with a syntax error exited $rc, want 1"
grep -q "$work/soft_delete.lua:$line: unexpected symbol" <<<"$out" || fail "syntax error not reported at file:$line"
pass "syntax error reported as file:line, exit 1"

# A wrong expectation: exit 1; the FAIL line names the case, the path and both values.
cp "$lua_dir/currency.lua" "$lua_dir/currency.test.json" "$work/"
sed -i 's/"amount_usd": "108.23"/"amount_usd": "108.24"/' "$work/currency.test.json"
grep -q '"108.24"' "$work/currency.test.json" || fail "currency fixture changed: nothing to break"
rc=0
out=$("$SLUICE_BIN" rules test "$work/currency.lua" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "a wrong expectation exited $rc, want 1"
grep -q '^FAIL insert: EUR amount converted, decimals stay strings: after.amount_usd: want "108.24", got "108.23"$' <<<"$out" ||
    fail "FAIL line does not show the path and both values"
[ "$(grep -c '^FAIL' <<<"$out")" = 1 ] || fail "other cases failed too"
grep -q "currency.lua: 13 passed, 1 failed" <<<"$out" || fail "summary of the failing file"
pass "wrong expectation: path, want and got, exit 1"

# Integer and float differ as Lua sees them; a missing key equals null; lists are compared in order.
cat >"$work/shape.lua" <<'LUA'
function transform(event)
  event.after.ratio = event.after.qty / 2      -- always a float in Lua
  event.after.tags = {"b", "a"}
  return event
end
LUA
cat >"$work/shape.test.json" <<'JSON'
{"cases": [
  {"name": "float", "event": {"op": "c", "after": {"qty": 4, "gone": null}},
   "expect": {"op": "c", "after": {"qty": 4, "ratio": 2.0, "tags": ["b", "a"]}}},
  {"name": "int is not float", "event": {"op": "c", "after": {"qty": 4}},
   "expect": {"op": "c", "after": {"qty": 4, "ratio": 2, "tags": ["a", "b"]}}}
]}
JSON
rc=0
out=$("$SLUICE_BIN" rules test "$work/shape.lua" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "shape test exited $rc, want 1"
grep -q '^ok   float$' <<<"$out" || fail "a float result did not match 2.0"
grep -q '^FAIL int is not float: .*after.ratio: want 2, got 2.0' <<<"$out" || fail "2 and 2.0 compared equal"
grep -q 'after.tags\[1\]: want "a", got "b"' <<<"$out" || fail "list order not compared"
pass "numbers compare exactly, lists in order"

# Columns listed in event.drop leave the result (a rename is an add and a drop).
cat >"$work/rename.lua" <<'LUA'
function transform(event)
  event.after.contact = event.after.email
  event.drop = {"email"}
  return event
end
LUA
cat >"$work/rename.test.json" <<'JSON'
{"cases": [
  {"name": "renamed", "event": {"op": "c", "after": {"id": 1, "email": "a@example.com"}},
   "expect": {"op": "c", "after": {"id": 1, "contact": "a@example.com"}}}
]}
JSON
"$SLUICE_BIN" rules test "$work/rename.lua" | grep -q '^ok   renamed$' || fail "event.drop did not remove the column"
pass "columns listed in event.drop are removed"

# A rule that never ends: stopped by the instruction limit, reported, exit 1.
cat >"$work/spin.lua" <<'LUA'
function transform(event)
  while true do end
end
LUA
echo '{"cases": [{"name": "spins", "event": {"op": "c", "after": {"id": 1}}, "expect": {"op": "c", "after": {"id": 1}}}]}' \
    >"$work/spin.test.json"
rc=0
out=$(timeout 60 "$SLUICE_BIN" rules test "$work/spin.lua" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "an endless rule exited $rc, want 1"
grep -q "^FAIL spins: .*spin.lua:2: instruction limit (1000000) exceeded" <<<"$out" || fail "instruction limit not reported"
pass "endless loop stopped by the instruction limit, exit 1"

# ... and an expected error matches by substring.
cat >"$work/spin.test.json" <<'JSON'
{"cases": [{"name": "spins", "event": {"op": "c"}, "expect_error": "instruction limit"}]}
JSON
"$SLUICE_BIN" rules test "$work/spin.lua" | grep -q '^ok   spins$' || fail "expect_error did not match"
pass "expect_error matches the error"

# A missing fixture file, and malformed ones: clear errors naming the file, exit 1.
cp "$lua_dir/pii_mask.lua" "$work/lonely.lua"
rc=0
out=$("$SLUICE_BIN" rules test "$work/lonely.lua" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "a missing fixture exited $rc, want 1"
grep -q "$work/lonely.test.json: no fixture file" <<<"$out" || fail "missing fixture not named"
cp "$lua_dir/pii_mask.lua" "$work/broken.lua"
printf '{"cases": [\n  {"name": "x", "event": {"op": "c"}, "expect": null,}\n]}\n' >"$work/broken.test.json"
rc=0
out=$("$SLUICE_BIN" rules test "$work/broken.lua" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 1 ] || fail "a malformed fixture exited $rc, want 1"
grep -q "$work/broken.test.json:2:" <<<"$out" || fail "JSON syntax error not reported with its line"
echo '{"cases": [{"name": "x", "event": {"op": "c"}, "expected": null}]}' >"$work/broken.test.json"
rc=0
out=$("$SLUICE_BIN" rules test "$work/broken.lua" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q 'case "x": unknown key "expected"' <<<"$out" || fail "misspelt key accepted: $out"
pass "missing and malformed fixtures reported, exit 1"

# A broken file does not stop the others; the summary counts both.
rc=0
out=$("$SLUICE_BIN" rules test "$work/lonely.lua" "$lua_dir/soft_delete.lua" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "one broken file of two exited $rc, want 1"
grep -q "soft_delete.lua: [0-9]* passed, 0 failed" <<<"$out" || fail "the good file was not tested"
grep -q "1 file(s) could not be tested" <<<"$out" || fail "summary does not count the broken file"
pass "a broken file does not stop the others"

# Usage.
rc=0
"$SLUICE_BIN" rules test >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "no files: exit $rc, want 2"
rc=0
"$SLUICE_BIN" rules frobnicate >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown subcommand: exit $rc, want 2"
"$SLUICE_BIN" rules test --help | grep -q "usage: sluice rules test" || fail "rules test --help"
"$SLUICE_BIN" rules --help | grep -q "usage: sluice rules" || fail "rules --help"
"$SLUICE_BIN" --help | grep -q "rules" || fail "sluice --help does not list rules"
pass "usage errors and --help"
