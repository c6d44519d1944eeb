// avro_read: read an Avro object container file with avsc (an independent pure-JavaScript Avro
// implementation) and print {codec, header, schema, sync, blocks, records} as JSON.
// header: every metadata key, its value as UTF-8 text (or "hex:<bytes>" when it is not text);
// schema: the writer schema exactly as stored in avro.schema (JSON-parsed, every attribute kept:
// avsc itself drops field attributes such as field-id once parsed, so they are checked here);
// sync: the marker in hex; blocks: data blocks, counted by sync markers; records: every record as avsc
// decoded it, longs exact (BigInt, printed as decimal strings), bytes and fixed as
// "hex:<bytes>", floats as numbers or "NaN" / "Infinity" / "-Infinity" / "-0", optional union
// values unwrapped (null or the value). Errors go to stderr, exit status 1.
//   node tests/e2e/tools/avro_read.mjs FILE.avro
import { readFileSync } from "node:fs";
import avro from "avsc";

const path = process.argv[2];
if (!path) {
    console.error("usage: avro_read.mjs FILE.avro");
    process.exit(2);
}

// Longs as BigInt so snapshot ids and bounds beyond 2^53 stay exact.
const exactLong = avro.types.LongType.__with({
    fromBuffer: (b) => b.readBigInt64LE(),
    toBuffer: (n) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(n));
        return b;
    },
    fromJSON: (x) => BigInt(x),
    toJSON: (n) => n.toString(),
    isValid: (n) => typeof n === "bigint",
    compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});

function plain(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === "bigint") return v.toString();
    if (Buffer.isBuffer(v)) return "hex:" + v.toString("hex");
    if (typeof v === "number") {
        if (Number.isNaN(v)) return "NaN";
        if (v === Infinity) return "Infinity";
        if (v === -Infinity) return "-Infinity";
        if (Object.is(v, -0)) return "-0";
        return v;
    }
    if (Array.isArray(v)) return v.map(plain);
    if (typeof v === "object") {
        const o = {};
        for (const k of Object.keys(v)) o[k] = plain(v[k]);
        return o;
    }
    return v;
}

function text(buf) {
    const s = buf.toString("utf8");
    return Buffer.from(s, "utf8").equals(buf) ? s : "hex:" + buf.toString("hex");
}

let result;
try {
    result = await new Promise((resolve, reject) => {
        const out = { records: [] };
        let wtype;
        avro.createFileDecoder(path, {
            parseHook: (schema) => avro.Type.forSchema(schema, { registry: { long: exactLong } }),
        })
            .on("metadata", (type, codec, header) => {
                wtype = type;
                out.codec = codec;
                out.header = {};
                for (const [k, v] of Object.entries(header.meta)) out.header[k] = text(v);
                out.schema = JSON.parse(header.meta["avro.schema"].toString("utf8"));
                out.sync = header.sync.toString("hex");
            })
            .on("data", (rec) => out.records.push(plain(rec)))
            .on("error", reject)
            .on("end", () => {
                if (!wtype) return reject(new Error("no header"));
                // Blocks: sync markers after the header's own one.
                const bytes = readFileSync(path);
                const sync = Buffer.from(out.sync, "hex");
                let n = 0;
                for (let i = bytes.indexOf(sync); i >= 0; i = bytes.indexOf(sync, i + 16)) n++;
                out.blocks = n - 1;
                resolve(out);
            });
    });
} catch (e) {
    console.error(`avro_read: ${path}: ${e.message}`);
    process.exit(1);
}
console.log(JSON.stringify(result, (k, v) => (typeof v === "bigint" ? v.toString() : v)));
