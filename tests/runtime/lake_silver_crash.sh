#!/usr/bin/env bash
# Silver: crashes at each step of a commit, deterministically. tests/tools/silver_crash feeds the
# silver writer a seeded stream of changes to public.acct (inserts, updates leaving a TOASTed
# note unsent, note updates, primary-key changes, deletes; a snapshot per transaction, big ones
# in parts, batches of several data files) through an object store and a catalog that end the
# process (as kill -9 would) at the K-th call of a point: storing a data file, a position-delete
# file, a manifest, a manifest list, a metadata file; between the metadata file and the catalog
# swap; before the swap; after it, its answer lost; before the version hint. For each point (a
# couple of K for each, and two runs that crash twice) in a fresh lake: the crash run must die
# there (exit 99: reaching the point is part of the test), then a run replays the stream from
# its first transaction to completion. icebird (an independent reader) reads both tables at the
# catalog's metadata file; the current table must equal the rows after the last transaction
# (no duplicate key) and the history the SCD2 silver_verify.py computes from the change log.
# SILVER_CRASH_SEED=S reproduces a seed (the K below are chosen for the default one).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
e2e="$SLUICE_REPO/tests/e2e"
[ -f "$e2e/node_modules/icebird/package.json" ] ||
    fail "$e2e/node_modules/icebird is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
command -v node >/dev/null || fail "node is missing: run packaging/install-deps.sh --test"
command -v python3 >/dev/null || fail "python3 is missing"
tool="$SLUICE_BUILD_DIR/tests/silver_crash"
[ -x "$tool" ] || fail "$tool is missing: build the tests (tests/tools/silver_crash.c)"

seed=${SILVER_CRASH_SEED:-12345}
ntx=40
# The writer fsyncs every object it stores (hundreds per run); a process crash loses nothing an
# fsync protects, so the lakes live on a tmpfs when there is one (that is what keeps this fast).
root=$test_tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    root=$(mktemp -d /dev/shm/sluice-silver-crash.XXXXXX)
    trap 'rm -rf "$root"; test_cleanup' EXIT
fi
echo "seed $seed, $ntx transactions (SILVER_CRASH_SEED=$seed reproduces it)"

# run DIR [ARGS...]: the driver on DIR's lake and state; its status in $run_status, output in DIR/log.
run() {
    local dir=$1
    shift
    run_status=0
    "$tool" --lake "$dir/lake" --state "$dir/state" --seed "$seed" --tx "$ntx" --out "$dir/out" "$@" \
        >>"$dir/log" 2>&1 || run_status=$?
}

# metadata_file DIR TABLE: the file name of TABLE's current metadata, as the catalog has it.
metadata_file() {
    python3 - "$1/state/catalog.db" "$2" <<'EOF'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'public' AND table_name = ?",
    (sys.argv[2],)).fetchone()
print(row[0].rsplit("/", 1)[1] if row else "")
EOF
}

# scenario NAME [--commit-bytes B] POINT:K...: crash at each POINT:K in turn, then complete, verify.
scenario() {
    local name=$1 dir="$root/$1" extra=() pk point at t file
    shift
    if [ "$1" = --commit-bytes ]; then
        extra=(--commit-bytes "$2")
        shift 2
    fi
    mkdir -p "$dir"
    for pk in "$@"; do
        point=${pk%:*} at=${pk#*:}
        run "$dir" "${extra[@]}" --crash "$point" --at "$at"
        if [ "$run_status" = 0 ]; then
            fail "$name: the run never reached $point #$at (it completed: $(tail -1 "$dir/log"))"
        elif [ "$run_status" != 99 ]; then
            fail "$name: the run crashing at $point #$at failed otherwise (exit $run_status): $(tail -5 "$dir/log")"
        fi
    done
    run "$dir" "${extra[@]}"
    [ "$run_status" = 0 ] || fail "$name: the run after the crash failed (exit $run_status): $(tail -5 "$dir/log")"
    for t in acct acct_history; do
        file=$(metadata_file "$dir" "$t")
        [ -n "$file" ] || fail "$name: the catalog has no table public.$t"
        node "$e2e/tools/icebird_read.mjs" "file://$dir/lake/silver/crash/public/$t" "$file" \
            >"$dir/out/acct.$([ "$t" = acct ] && echo current || echo history).json" 2>"$dir/icebird.err" ||
            fail "$name: icebird could not read $t: $(cat "$dir/icebird.err")"
    done
    python3 - "$dir/out/acct.current.json" <<'EOF' || fail "$name: the current table has a key twice"
import collections, json, sys
ids = collections.Counter(r["id"] for r in json.load(open(sys.argv[1]))["rows"])
dup = [k for k, n in ids.items() if n > 1]
if dup:
    print("duplicate keys:", dup)
    sys.exit(1)
EOF
    python3 "$SLUICE_REPO/tests/runtime/silver_verify.py" "$dir/out" acct >"$dir/verify" 2>&1 ||
        fail "$name: the tables are not exact after crashing at ${*}: $(cat "$dir/verify")"
    pass "$name: crashed at $*, then completed: $(head -1 "$dir/verify")"
    rm -rf "$dir"
}

# The K of each point: an early one (table creation for the metadata file, catalog and hint
# points) and a later one, mid-stream, for the default seed (a run makes about 230 data-file, 130
# delete-file, 290 manifest and 170 list, metadata, catalog and hint calls).
scenario data-put-early data-put:1
scenario data-put-late data-put:150
scenario delete-put-early delete-put:1
scenario delete-put-late delete-put:90
scenario manifest-put-early manifest-put:2
scenario manifest-put-late manifest-put:201
scenario list-put-early list-put:1
scenario list-put-late list-put:111
scenario metadata-put-create metadata-put:1
scenario metadata-put-late metadata-put:77
scenario metadata-after-create metadata-after:2
scenario metadata-after-late metadata-after:120
scenario cas-before-create cas-before:1
scenario cas-before-late cas-before:64
scenario cas-after-create cas-after:2
scenario cas-after-late cas-after:99
scenario hint-put-create hint-put:3
scenario hint-put-late hint-put:120
# Twice before completing (the second run replays, then crashes at its own K-th call), and every
# change in a snapshot of its own (commits in the middle of transactions).
scenario twice-cas-after-metadata-after cas-after:30 metadata-after:41
scenario twice-data-put-cas-before data-put:60 cas-before:20
scenario per-change-list-put --commit-bytes 1 list-put:150
