// parquet_duckdb: the DuckDB side of bench/parquet_write.sh. Writes the benchmark table with
// DuckDB's COPY (SELECT ... FROM range(N)) TO 'OUT' (FORMAT parquet, COMPRESSION C) R times and
// prints "rows=N best_s=... runs_s=... rows_per_s=... bytes=..." (the COPY statement's wall time,
// generation included). @duckdb/node-api is resolved from tests/e2e (npm ci there).
//   node bench/parquet_duckdb.mjs ROWS OUT.parquet CODEC RUNS THREADS
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [rows, out, codec, runs, threads] = process.argv.slice(2);
const require = createRequire(new URL("../tests/e2e/package.json", import.meta.url));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve("@duckdb/node-api")).href);

// The same values as parquet_write --bench computes (tests/tools/parquet_write.c).
export const SELECT = `SELECT
    i::BIGINT AS id,
    ((i * 7919) % 100000)::INTEGER AS customer_id,
    'user' || (i % 50000) || '@example.com' AS email,
    CAST(CAST((i * 37) % 1000000 AS DECIMAL(12,0)) * 0.01 AS DECIMAL(12,2)) AS amount,
    ['pending', 'paid', 'shipped', 'delivered', 'cancelled'][i % 5 + 1] AS status,
    make_timestamp(1700000000000000 + i * 1000003)::TIMESTAMPTZ AS created_at,
    i % 3 = 0 AS paid,
    (i % 100 + 1)::INTEGER AS quantity,
    CAST(i % 1000 AS DOUBLE) * 0.5 AS score,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || (i % 1000) END AS note
  FROM range(${Number(rows)}) t(i)`;

const instance = await DuckDBInstance.create(":memory:");
const conn = await instance.connect();
await conn.run("SET TimeZone = 'UTC'");
await conn.run(`SET threads = ${Number(threads)}`);
const times = [];
for (let r = 0; r < Number(runs); r++) {
    const t0 = process.hrtime.bigint();
    await conn.run(`COPY (${SELECT}) TO '${out}' (FORMAT parquet, COMPRESSION ${codec})`);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
const best = Math.min(...times);
console.log(`rows=${rows} best_s=${best.toFixed(3)} runs_s=${times.map((t) => t.toFixed(3)).join(",")} ` +
    `rows_per_s=${Math.round(Number(rows) / best)} bytes=${statSync(out).size}`);
