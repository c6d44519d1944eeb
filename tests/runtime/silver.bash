# silver.bash: helpers of the silver tests (lake_silver, lake_silver_s3, lake_kafka_silver): the
# workload's tables (silver_workload.py: acct, line) as PostgreSQL holds them, and icebird's
# reading of their silver tables compared by silver_verify.py. Needs lib.bash and pg.bash; $out
# is the directory silver_verify.py reads, $seed the workload's seed (for messages).

# silver_pg_dump SUFFIX: acct and line as PostgreSQL holds them now, into $out/<table>.SUFFIX.json
# (initial: before the workload; pg: at the end).
silver_pg_dump() {
    psql_q "SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'balance', balance::text, 'note', note,
            'updated', (extract(epoch FROM updated) * 1000000)::bigint, 'active', active)), '[]') FROM acct" >"$out/acct.$1.json"
    psql_q "SELECT coalesce(json_agg(json_build_object('order_id', order_id, 'line', line, 'qty', qty::text,
            'price', price)), '[]') FROM line" >"$out/line.$1.json"
}

# silver_read_verify WHAT BASE: icebird (tests/e2e/tools/icebird_read.mjs, with the caller's
# environment) reads BASE/<t> and BASE/<t>_history for acct and line (BASE: the URL of
# silver/sluice/public, file:// or http://); silver_verify.py must find the current tables equal
# to SELECT * and the history tables equal to the SCD2 of the change log.
silver_read_verify() {
    local what=$1 base=$2 t
    for t in acct line; do
        node "$SLUICE_REPO/tests/e2e/tools/icebird_read.mjs" "$base/$t" >"$out/$t.current.json" 2>"$test_tmp/icebird.err" ||
            fail "$what: icebird could not read silver table $t: $(cat "$test_tmp/icebird.err")"
        node "$SLUICE_REPO/tests/e2e/tools/icebird_read.mjs" "$base/${t}_history" >"$out/$t.history.json" \
            2>"$test_tmp/icebird.err" || fail "$what: icebird could not read silver table ${t}_history: $(cat "$test_tmp/icebird.err")"
    done
    python3 "$SLUICE_REPO/tests/runtime/silver_verify.py" "$out" || fail "$what: the silver tables are not exact (seed $seed)"
    pass "$what: current tables equal SELECT *, history tables equal the SCD2 of the change log (icebird, seed $seed)"
}
