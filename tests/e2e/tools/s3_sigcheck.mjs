// s3_sigcheck: an S3 front for the lake tests. Every request is checked with an independent SigV4
// signer (@smithy/signature-v4, the AWS SDK's own) from the request exactly as received: method,
// raw path, query, the headers named in SignedHeaders, and x-amz-content-sha256 compared with the
// SHA-256 of the body that actually arrived. A mismatch is answered like S3 (403
// SignatureDoesNotMatch, XML); a good request is forwarded, unsigned, to s3rver (which accepts
// anonymous requests). Virtual-hosted requests (Host: <bucket>.<vhost-base>) are rewritten to
// path style for s3rver after the check.
//
// s3rver ignores If-None-Match; this front emulates it (HEAD first, 412 PreconditionFailed), or
// answers 501 NotImplemented like stores without conditional writes, or ignores it.
//
// Fault injection, through a control port (JSON over HTTP, for these tests and the bronze fault
// tests):
//   POST /fault {"kind":"status","count":3,"status":503,"code":"SlowDown","method":"PUT"}
//        {"kind":"reset","count":1,"after":65536}   destroy the connection after that many body
//                                                   bytes have arrived (0: at the request head)
//        {"kind":"delay","count":2,"ms":3000}       hold the response back
//        each fault applies to the next `count` S3 requests (optionally of one method only, or
//        whose URL matches "match", a substring); faults queue in order
//   POST /clear                     drop pending faults
//   POST /close-idle                close every kept-alive connection that is idle now
//   POST /conditional {"mode":"emulate"|"501"|"ignore"}
//   GET  /stats                     {"requests","forwarded","sig_ok","sig_fail","faults","connections",
//                                    "pending"}
// Each S3 request is logged as a JSON line to --log (conn id, method, url, host, selected headers,
// status, fault).
//
// Run: node tests/e2e/tools/s3_sigcheck.mjs --port P --control C --upstream http://127.0.0.1:U
//        --access-key AK --secret SK --region R [--vhost-base localhost] [--log FILE]
//        [--tls-cert FILE --tls-key FILE]   (serve S3 over HTTPS; the control port stays HTTP)
import http from "node:http";
import https from "node:https";
import fs from "node:fs";
import { createHash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { escapeUriPath } from "@smithy/core/protocols";

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
    args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["port", "control", "upstream", "access-key", "secret", "region"])
    if (!args[k]) {
        console.error(`s3_sigcheck: --${k} is required`);
        process.exit(2);
    }
const upstream = new URL(args.upstream);
const vhostBase = args["vhost-base"] || "localhost";
const logStream = args.log ? fs.createWriteStream(args.log, { flags: "a" }) : null;
const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });

const stats = { requests: 0, forwarded: 0, sig_ok: 0, sig_fail: 0, faults: 0, connections: 0 };
let faults = [];
let conditionalMode = "emulate";
const sockets = new Set();
let connSeq = 0;

const xmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
                                                                  '"': "&quot;", "'": "&apos;" })[c]);

function s3Error(res, status, code, message, extra = {}) {
    let body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code>` +
        `<Message>${xmlEscape(message)}</Message>`;
    for (const [k, v] of Object.entries(extra))
        body += `<${k}>${xmlEscape(v)}</${k}>`;
    body += `<RequestId>sigcheck</RequestId></Error>`;
    res.writeHead(status, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
    return status;
}

// The raw query string as name -> value (decoded; '+' is a plus, not a space), arrays for repeats.
function parseQuery(raw) {
    const q = {};
    if (!raw)
        return q;
    for (const part of raw.split("&")) {
        if (!part)
            continue;
        const eq = part.indexOf("=");
        const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
        const value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
        if (name in q)
            q[name] = [].concat(q[name], value);
        else
            q[name] = value;
    }
    return q;
}

function parseAmzDate(s) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || "");
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

// Verify the request's SigV4. Returns null when good, else [status, code, message, extra].
async function verify(req, rawPath, rawQuery, body) {
    const auth = req.headers.authorization;
    if (!auth)
        return [403, "AccessDenied", "Anonymous requests are refused by s3_sigcheck"];
    const m = /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/([^/,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m)
        return [400, "AuthorizationHeaderMalformed", `The authorization header is malformed: ${auth}`];
    const [, akid, scopeDate, region, service, signedHeaders, signature] = m;
    if (akid !== args["access-key"])
        return [403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."];
    if (region !== args.region || service !== "s3")
        return [400, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${region}' is wrong; expecting '${args.region}'`];
    const date = parseAmzDate(req.headers["x-amz-date"]);
    if (!date || req.headers["x-amz-date"].slice(0, 8) !== scopeDate)
        return [403, "AccessDenied", "x-amz-date is missing or does not match the credential scope"];
    if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000)
        return [403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."];
    const names = signedHeaders.split(";");
    for (const need of ["host", "x-amz-date", "x-amz-content-sha256"])
        if (!names.includes(need))
            return [403, "AccessDenied", `SignedHeaders does not include ${need}`];
    const declared = req.headers["x-amz-content-sha256"];
    const actual = createHash("sha256").update(body).digest("hex");
    if (declared !== actual)
        return [400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                { ClientComputedContentSHA256: declared || "", S3ComputedContentSHA256: actual }];
    if (escapeUriPath(decodeURIComponent(rawPath)) !== rawPath)
        return [400, "InvalidURI", `The path is not encoded canonically (RFC 3986, once): ${rawPath}`];
    const headers = {};
    for (const n of names) {
        if (req.headers[n] === undefined)
            return [403, "AccessDenied", `signed header ${n} is missing from the request`];
        headers[n] = Array.isArray(req.headers[n]) ? req.headers[n].join(",") : req.headers[n];
    }
    const credentials = { accessKeyId: akid, secretAccessKey: args.secret };
    if (req.headers["x-amz-security-token"])
        credentials.sessionToken = req.headers["x-amz-security-token"];
    const signer = new SignatureV4({ credentials, region, service: "s3", sha256: Sha256, uriEscapePath: false,
                                     applyChecksum: true });
    const signed = await signer.sign({ method: req.method, protocol: "http:", hostname: headers.host, path: rawPath,
                                       query: parseQuery(rawQuery), headers, body }, { signingDate: date });
    const want = signed.headers.authorization;
    if (want !== auth)
        return [403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                { AWSAccessKeyId: akid }];
    return null;
}

// The first pending fault that applies to this request (its count taken), or null.
function takeFault(req) {
    for (const f of faults) {
        if (f.count <= 0)
            continue;
        if (f.method && f.method !== req.method)
            continue;
        if (f.match && !req.url.includes(f.match))
            continue;
        f.count--;
        faults = faults.filter((x) => x.count > 0);
        stats.faults++;
        return f;
    }
    return null;
}

function upstreamRequest(method, path, headers, body) {
    return new Promise((resolve, reject) => {
        const r = http.request({ host: upstream.hostname, port: upstream.port, method, path, headers,
                                 agent: upstreamAgent }, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on("error", reject);
        });
        r.on("error", reject);
        r.end(body);
    });
}

// If-None-Match: * on a whole-object write (PUT without partNumber, or CompleteMultipartUpload).
function conditionalWrite(req, query) {
    if (req.headers["if-none-match"] !== "*")
        return false;
    if (req.method === "PUT" && !("partNumber" in query))
        return true;
    return req.method === "POST" && "uploadId" in query;
}

async function handle(req, res, body, fault) {
    const q = req.url.indexOf("?");
    const rawPath = q < 0 ? req.url : req.url.slice(0, q);
    const rawQuery = q < 0 ? "" : req.url.slice(q + 1);
    const bad = await verify(req, rawPath, rawQuery, body);
    if (bad) {
        stats.sig_fail++;
        return s3Error(res, ...bad);
    }
    stats.sig_ok++;
    if (fault && fault.kind === "status")
        return s3Error(res, fault.status || 503, fault.code || "SlowDown",
                       fault.message || { SlowDown: "Please reduce your request rate.",
                                         InternalError: "We encountered an internal error. Please try again.",
                                         ServiceUnavailable: "Service is unable to handle request." }[fault.code || "SlowDown"] ||
                       "Injected by s3_sigcheck.");
    // Path style for s3rver.
    const host = (req.headers.host || "").replace(/:\d+$/, "");
    let path = req.url;
    if (host.endsWith("." + vhostBase))
        path = "/" + host.slice(0, -(vhostBase.length + 1)) + (rawPath === "/" ? "" : rawPath) + (q < 0 ? "" : "?" + rawQuery);
    const query = parseQuery(rawQuery);
    if (conditionalWrite(req, query)) {
        if (conditionalMode === "501")
            return s3Error(res, 501, "NotImplemented", "A header you provided implies functionality that is not implemented",
                           { Header: "If-None-Match" });
        if (conditionalMode === "emulate") {
            const objPath = path.split("?")[0];
            const head = await upstreamRequest("HEAD", objPath, {}, Buffer.alloc(0));
            if (head.status === 200)
                return s3Error(res, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
                               { Condition: "If-None-Match" });
        }
    }
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
        if (k === "authorization" || k === "host" || k === "if-none-match" || k === "connection" ||
            k.startsWith("x-amz-security-token"))
            continue;
        headers[k] = v;
    }
    headers["content-length"] = String(body.length);
    const up = await upstreamRequest(req.method, path, headers, body);
    stats.forwarded++;
    const out = {};
    for (const [k, v] of Object.entries(up.headers))
        if (!["connection", "keep-alive", "transfer-encoding", "content-length"].includes(k))
            out[k] = v;
    if (req.method !== "HEAD")
        out["content-length"] = String(up.body.length);
    else if (up.headers["content-length"] !== undefined)
        out["content-length"] = up.headers["content-length"];
    const send = () => {
        res.writeHead(up.status, out);
        res.end(req.method === "HEAD" ? undefined : up.body);
    };
    if (fault && fault.kind === "delay")
        await new Promise((r) => setTimeout(r, fault.ms || 1000));
    if (!res.destroyed)
        send();
    return up.status;
}

const tlsOptions = args["tls-cert"] ? { cert: fs.readFileSync(args["tls-cert"]), key: fs.readFileSync(args["tls-key"]) } : null;
const server = (tlsOptions ? (h) => https.createServer(tlsOptions, h) : (h) => http.createServer(h))((req, res) => {
    stats.requests++;
    const sock = req.socket;
    sock.busy = true;
    const fault = takeFault(req);
    const entry = { t: Date.now(), conn: sock.sluiceId, method: req.method, url: req.url, host: req.headers.host,
                    sse: req.headers["x-amz-server-side-encryption"] || null,
                    kms: req.headers["x-amz-server-side-encryption-aws-kms-key-id"] || null,
                    inm: req.headers["if-none-match"] || null, ctype: req.headers["content-type"] || null,
                    fault: fault ? fault.kind : null };
    const chunks = [];
    let received = 0;
    const resetAt = fault && fault.kind === "reset" ? (fault.after || 0) : -1;
    const reset = () => {
        entry.status = "reset";
        entry.bytes = received;
        logStream?.write(JSON.stringify(entry) + "\n");
        sock.destroy();
    };
    if (resetAt === 0)
        return reset();
    req.on("data", (c) => {
        if (sock.destroyed)
            return;
        received += c.length;
        chunks.push(c);
        if (resetAt > 0 && received >= resetAt)
            reset();
    });
    req.on("end", () => {
        if (sock.destroyed)
            return;
        if (resetAt > 0)   // the body was shorter than the reset point: reset at its end
            return reset();
        const body = Buffer.concat(chunks);
        entry.bytes = body.length;
        handle(req, res, body, fault).then((status) => {
            entry.status = status;
            logStream?.write(JSON.stringify(entry) + "\n");
        }, (e) => {
            entry.status = 502;
            entry.error = String(e);
            logStream?.write(JSON.stringify(entry) + "\n");
            if (!res.headersSent)
                s3Error(res, 502, "BadGateway", `s3_sigcheck: upstream failed: ${e}`);
        });
    });
    res.on("finish", () => { sock.busy = false; });
});
server.keepAliveTimeout = 120000;
server.headersTimeout = 130000;
server.requestTimeout = 0;
server.on(tlsOptions ? "secureConnection" : "connection", (sock) => {
    stats.connections++;
    sock.sluiceId = ++connSeq;
    sock.busy = false;
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
});

function readJson(req) {
    return new Promise((resolve) => {
        let s = "";
        req.on("data", (c) => { s += c; });
        req.on("end", () => {
            try {
                resolve(s ? JSON.parse(s) : {});
            } catch {
                resolve(null);
            }
        });
    });
}

const control = http.createServer(async (req, res) => {
    const reply = (status, obj) => {
        const body = JSON.stringify(obj);
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(body + "\n");
    };
    const body = await readJson(req);
    if (body === null)
        return reply(400, { error: "bad JSON" });
    if (req.method === "GET" && req.url === "/stats")
        return reply(200, { ...stats, pending: faults.reduce((n, f) => n + f.count, 0) });
    if (req.method === "POST" && req.url === "/fault") {
        if (!["status", "reset", "delay"].includes(body.kind) || !(body.count > 0))
            return reply(400, { error: "kind must be status, reset or delay, count > 0" });
        faults.push({ ...body });
        return reply(200, { ok: true, pending: faults.reduce((n, f) => n + f.count, 0) });
    }
    if (req.method === "POST" && req.url === "/clear") {
        faults = [];
        return reply(200, { ok: true });
    }
    if (req.method === "POST" && req.url === "/close-idle") {
        let n = 0;
        for (const s of sockets)
            if (!s.busy) {
                s.destroy();
                n++;
            }
        return reply(200, { closed: n });
    }
    if (req.method === "POST" && req.url === "/conditional") {
        if (!["emulate", "501", "ignore"].includes(body.mode))
            return reply(400, { error: "mode must be emulate, 501 or ignore" });
        conditionalMode = body.mode;
        return reply(200, { ok: true });
    }
    reply(404, { error: "unknown control request" });
});

server.listen(+args.port, "127.0.0.1", () => {
    control.listen(+args.control, "127.0.0.1", () => {
        console.log(`s3_sigcheck: S3 on 127.0.0.1:${args.port}, control on 127.0.0.1:${args.control}, upstream ${args.upstream}`);
    });
});
