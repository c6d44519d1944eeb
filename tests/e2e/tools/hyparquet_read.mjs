// hyparquet_read: read a Parquet file with hyparquet (an independent pure-JavaScript reader,
// hyparquet-compressors for zstd and snappy) and print {metadata, rows, decimal_numbers, pages}
// as JSON.
// Values keep their exact form: 64-bit integers, times and timestamps (microseconds) and dates
// (days) as decimal strings or numbers, binary as hex, uuids as hyparquet's text, floats as
// numbers or "NaN" / "Infinity" / "-Infinity" / "-0". Decimals are read twice: exactly (the
// unscaled integer as hyparquet decodes it, scaled here with BigInt) in rows, and as hyparquet
// converts them (JavaScript numbers) in decimal_numbers; pages counts the data pages hyparquet
// decoded per column. Statistics in the metadata are decoded with the same parsers, except byte
// arrays: "hex:<bytes>". Errors go to stderr, exit status 1.
//   node tests/e2e/tools/hyparquet_read.mjs FILE.parquet
import { readFile } from "node:fs/promises";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";

const path = process.argv[2];
if (!path) {
    console.error("usage: hyparquet_read.mjs FILE.parquet");
    process.exit(2);
}

const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString("hex");

function unscaled(v) {
    if (v instanceof Uint8Array) {   // big-endian two's complement
        let x = 0n;
        for (const b of v) x = x * 256n + BigInt(b);
        if (v.length && v[0] & 0x80) x -= 1n << BigInt(8 * v.length);
        return x;
    }
    return BigInt(v);
}

function decimalText(v, scale) {
    let x = unscaled(v);
    const neg = x < 0n;
    if (neg) x = -x;
    let s = x.toString().padStart(scale + 1, "0");
    if (scale > 0) s = s.slice(0, s.length - scale) + "." + s.slice(s.length - scale);
    return (neg ? "-" : "") + s;
}

function plain(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return hex(v);
    if (typeof v === "number") {
        if (Number.isNaN(v)) return "NaN";
        if (v === Infinity) return "Infinity";
        if (v === -Infinity) return "-Infinity";
        if (Object.is(v, -0)) return "-0";
    }
    return v;
}

function jsonable(x) {
    return JSON.parse(JSON.stringify(x, (k, v) => (typeof v === "bigint" || typeof v === "number" || v instanceof Uint8Array ? plain(v) : v)));
}

try {
    const data = await readFile(path);
    const file = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const parsers = {
        timestampFromMicroseconds: (us) => us.toString(),
        dateFromDays: (days) => days,
    };
    // Byte-array statistics as "hex:..." (hyparquet would decode binary ones as UTF-8 text).
    const metadata = parquetMetadata(file, { parsers: { ...parsers, stringFromBytes: (b) => "hex:" + hex(b) } });
    // As hyparquet converts everything (decimals to numbers).
    const pages = {};
    const onPage = (p) => (pages[p.pathInSchema[0]] = (pages[p.pathInSchema[0]] || 0) + 1);
    const converted = await parquetReadObjects({ file, metadata, compressors, parsers, utf8: false, onPage });
    // Decimals exactly: the same metadata with the decimal annotations removed.
    const decimals = metadata.schema.filter((e) => e.converted_type === "DECIMAL");
    const raw = structuredClone(metadata);
    for (const e of raw.schema) {
        if (e.converted_type === "DECIMAL") {
            delete e.converted_type;
            delete e.logical_type;
        }
    }
    const exact = decimals.length ? await parquetReadObjects({ file, metadata: raw, compressors, parsers, utf8: false }) : converted;
    const rows = converted.map((r, i) => {
        const o = {};
        for (const [k, v] of Object.entries(r)) o[k] = plain(v);
        for (const e of decimals) o[e.name] = exact[i][e.name] === null ? null : decimalText(exact[i][e.name], e.scale || 0);
        return o;
    });
    const decimal_numbers = {};
    for (const e of decimals) decimal_numbers[e.name] = converted.map((r) => plain(r[e.name]));
    process.stdout.write(JSON.stringify({ metadata: jsonable(metadata), rows, decimal_numbers, pages }) + "\n");
} catch (e) {
    console.error(`hyparquet_read: ${e.stack || e.message}`);
    process.exit(1);
}
