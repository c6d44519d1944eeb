// duckdb_query: run SQL statements with DuckDB (@duckdb/node-api, an independent reader of the
// lake) and print the rows of the last one as a JSON array of objects (DuckDB's JSON conversion:
// big integers and decimals as strings, structs as objects). Errors go to stderr, exit status 1.
//   node tests/e2e/tools/duckdb_query.mjs "SELECT ..." ["SELECT ..." ...]
import { DuckDBInstance } from "@duckdb/node-api";

const statements = process.argv.slice(2);
if (!statements.length) {
    console.error("usage: duckdb_query.mjs SQL...");
    process.exit(2);
}
try {
    const instance = await DuckDBInstance.create(":memory:");
    const conn = await instance.connect();
    let rows = [];
    for (const sql of statements)
        rows = (await conn.runAndReadAll(sql)).getRowObjectsJson();
    process.stdout.write(JSON.stringify(rows) + "\n");
} catch (e) {
    console.error(`duckdb_query: ${e.message}`);
    process.exit(1);
}
