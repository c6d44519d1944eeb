#!/usr/bin/env bash
# rules_overhead: what a Lua rule costs per event. Builds tests/tools/rules_bench (Release), which
# applies rule sets through the rules engine to N insert events of a 10-column table (distinct
# rows typed by the capture's own parser) and measures thread CPU and wall time, best of R runs:
# no rule for the table, the identity rule (marshalling alone), lua/pii_mask.lua, the 4-step
# rules of bench/rules/ in Lua, and (f) the 4-step rule of the issue's contract (rename, cast,
# mask, add) as native steps (rules_bench first checks that (f) gives the same rows as the same
# steps written with the sluice helpers), then a breakdown (marshal push, transform call, pull). The peer runs the
# same 4-step function under the stock lua5.4 interpreter over Lua tables built beforehand (no
# marshalling); the script first checks that both produce identical rows. Prints the Markdown
# tables of docs/BENCHMARKS.md ("Rules overhead") and the ratio to the peer. No PostgreSQL needed.
#   bash bench/rules_overhead.sh [--events N] [--rows N] [--runs R] [--build DIR]
set -euo pipefail

events=1000000
rows=100000
runs=3
build=
while [ $# -gt 0 ]; do
    case "$1" in
    --events) events=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;   # an existing build tree (with tests) to reuse
    -h | --help)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    *) echo "rules_overhead: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ "$events" =~ ^[1-9][0-9]*$ && "$rows" =~ ^[1-9][0-9]*$ && "$runs" =~ ^[1-9][0-9]*$ && "$runs" -le 16 ]] ||
    { echo "rules_overhead: --events and --rows must be positive integers, --runs 1..16" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
tmp=$(mktemp -d /tmp/sluice-rules-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# ---- build: rules_bench is a test tool (tests/tools), so this tree has the tests on -------------
if [ -z "$build" ]; then
    build=$repo/bench/build-rules   # ignored by git through build*/
    say "building rules_bench (Release) in $build"
    mkdir -p "$build"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=ON >"$build/bench-build.log" 2>&1 &&
        cmake --build "$build" -j"$(nproc)" --target rules_bench >>"$build/bench-build.log" 2>&1 ||
        { tail -30 "$build/bench-build.log" >&2; die "build failed (see $build/bench-build.log)"; }
fi
tool=$build/tests/rules_bench
[ -x "$tool" ] || die "no rules_bench at $tool"
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" 2>/dev/null ||
    say "warning: $build is not a Release build"

# ---- the peer: the stock interpreter, Debian's lua5.4 -------------------------------------------
if ! command -v lua5.4 >/dev/null; then
    say "installing lua5.4 (Debian package) for the peer"
    apt-get install -y -q lua5.4 >/dev/null || die "lua5.4 missing and 'apt-get install lua5.4' failed"
fi
peer=(lua5.4 "$repo/bench/rules/four_step_peer.lua" "$repo/bench/rules/four_step.lua")

# Same rows, same results: the 4-step rule's output (every column) inside sluice and in plain Lua.
for r in 0 4 7 9 $((rows - 1)); do
    a=$("$tool" --repo "$repo" --rows "$rows" --events "$rows" --check "$r" 2>/dev/null) || die "rules_bench --check $r failed"
    b=$("${peer[@]}" --check "$r") || die "peer --check $r failed"
    [ "$a" = "$b" ] || die "row $r differs: sluice '$a', lua5.4 '$b'"
done
say "cross-check: sluice and lua5.4 produce identical rows (0 4 7 9 $((rows - 1)))"

# ---- runs -------------------------------------------------------------------------------------
say "rules_bench: $events events ($rows distinct rows), best of $runs"
"$tool" --repo "$repo" --events "$events" --rows "$rows" --runs "$runs" >"$tmp/sluice.md" 2>"$tmp/sluice.err" ||
    { cat "$tmp/sluice.err" >&2; die "rules_bench failed"; }
say "lua5.4 peer: $events events, best of $runs"
"${peer[@]}" "$events" "$rows" "$runs" >"$tmp/peer.txt" || die "peer failed"

# ---- report -----------------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$tmp/peer.txt"; }
ns_of() { awk -F'|' -v k="$1" 'index($2, k) == 2 { gsub(/ /, "", $4); print $4; exit }' "$tmp/sluice.md"; }
peer_ns=$(field net_ns_per_event)
peer_eps=$(field events_per_s)
d_ns=$(ns_of "(d)") e_ns=$(ns_of "(e)") f_ns=$(ns_of "(f)")
[ -n "$peer_ns" ] && [ -n "$d_ns" ] && [ -n "$f_ns" ] || die "could not read the results"
grep -q '(f) native steps and the sluice helpers give identical rows' "$tmp/sluice.err" ||
    die "rules_bench did not check (f) against the helpers"
say "cross-check: (f) native steps and the sluice helpers produce identical rows"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD -- firmware 2>/dev/null || commit="$commit+changes"
lua_version=$(dpkg-query -W -f '${Version}' liblua5.4-0 2>/dev/null || echo unknown)
echo
echo "sluice $commit, Lua $lua_version (liblua5.4-0 embedded, lua5.4 peer), $(nproc) x $cpu_model, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "events: $events inserts per run ($rows distinct rows), 10 columns, runs: $runs (best)"
echo
sed -n '1,/^$/p' "$tmp/sluice.md" | sed '/^$/d'
printf '| peer: the transform of (d) under the stock lua5.4, tables built beforehand, no marshalling | %s | %.0f | | %s | |\n' \
    "$peer_eps" "$peer_ns" "$(field all_runs_ns | tr , " ")"
echo
echo "Ratio (events/s per core): sluice 4-step with marshalling / lua5.4 without = $(ratio "$d_ns" "$peer_ns")x;" \
    "with sluice's C helpers (e) / lua5.4 plain (peer) = $(ratio "$e_ns" "$peer_ns")x;" \
    "native steps (f) / lua5.4 plain (peer) = $(ratio "$f_ns" "$peer_ns")x"
sed -n '/^Breakdown/,$p' "$tmp/sluice.md" | sed '1s/^/\n/'
