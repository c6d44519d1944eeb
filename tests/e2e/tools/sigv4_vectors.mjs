// sigv4_vectors: SigV4 test vectors from an independent signer (@smithy/signature-v4, the AWS SDK's
// own), for the constants in tests/unit/test_aws_sigv4.c and tests/unit/test_aws_msk_iam.c.
// Prints one "name value" line per vector; tests/runtime/unit_aws_sigv4.sh checks that the C test
// files hold exactly these lines, so the constants cannot drift from what this signer produces.
// Run: node tests/e2e/tools/sigv4_vectors.mjs  (after npm ci in tests/e2e)
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import { formatUrl } from "@aws-sdk/util-format-url";
import { escapeUriPath } from "@smithy/core/protocols";
import { createHash } from "node:crypto";

// Fixed credentials and time (the unit tests use the same values).
const DOC_IAM = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const DOC_S3 = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const KEYS = DOC_IAM;
const TEMP = {
    accessKeyId: "ASIAEXAMPLETEMPKEY01",
    secretAccessKey: "tempSecret/Key+EXAMPLE0123456789abcdefgh",
    sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE//session+token/with=chars",
};
const NOW = new Date("2024-05-01T12:34:56Z");   // 1714566896
const UNSIGNED = "UNSIGNED-PAYLOAD";
const MSK_USER_AGENT = "sluice/test";

const sha256hex = (s) => createHash("sha256").update(s, "utf8").digest("hex");
const out = [];
const emit = (name, value) => out.push(`${name} ${value}`);

// A header-signed request. S3 (s3: true): the path is encoded once and not normalized
// (uriEscapePath false), x-amz-content-sha256 is added and signed. Others: encoded twice.
async function authorization({ creds, region, service, method, host, path, query = {}, headers = {},
                               body, payloadHash, s3 = false, date = NOW }) {
    const signer = new SignatureV4({ credentials: creds, region, service, sha256: Sha256,
                                     uriEscapePath: !s3, applyChecksum: s3 });
    const h = { host, ...headers };
    if (payloadHash)
        h["x-amz-content-sha256"] = payloadHash;
    const signed = await signer.sign({ method, protocol: "https:", hostname: host, path: escapeUriPath(path),
                                       query, headers: h, body }, { signingDate: date });
    return signed.headers.authorization;
}

// A presigned URL. Only host is signed; the payload is UNSIGNED-PAYLOAD for S3 (kept out of the
// query string, as AWS's documented example has it), the empty-body hash otherwise.
async function presign({ creds, region, service, method, host, path, query = {}, expiresIn, s3 = false,
                         date = NOW }) {
    const signer = new SignatureV4({ credentials: creds, region, service, sha256: Sha256, uriEscapePath: !s3 });
    const headers = { host };
    const opts = { signingDate: date, expiresIn };
    if (s3) {
        headers["x-amz-content-sha256"] = UNSIGNED;
        opts.unsignableHeaders = new Set(["x-amz-content-sha256"]);
        opts.unhoistableHeaders = new Set(["x-amz-content-sha256"]);
    }
    const signed = await signer.presign({ method, protocol: "https:", hostname: host, path: escapeUriPath(path),
                                          query, headers }, opts);
    return formatUrl(signed);
}

// The MSK IAM token exactly as aws-msk-iam-sasl-signer-js (src/getMSKAuthToken.ts) builds it, with
// the signing time fixed and our user agent.
async function mskToken(creds, region) {
    const hostname = `kafka.${region}.amazonaws.com`;
    const signer = new SignatureV4({ service: "kafka-cluster", region, credentials: creds, sha256: Sha256,
                                     applyChecksum: false });
    const signed = await signer.presign({ method: "GET", headers: { host: hostname }, protocol: "https",
                                          hostname, path: "/", query: { Action: "kafka-cluster:Connect" } },
                                        { expiresIn: 900, signingDate: NOW });
    signed.query["User-Agent"] = MSK_USER_AGENT;
    const url = formatUrl(signed);
    return { url, token: Buffer.from(url, "utf-8").toString("base64url").replace(/=/g, "") };
}

// AWS's documented examples (IAM GET ListUsers; S3 GET Object with Range; S3 presigned GET).
emit("doc_iam_list_users_auth", await authorization({
    creds: DOC_IAM, region: "us-east-1", service: "iam", method: "GET", host: "iam.amazonaws.com", path: "/",
    query: { Action: "ListUsers", Version: "2010-05-08" },
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    date: new Date("2015-08-30T12:36:00Z") }));
emit("doc_s3_get_object_auth", await authorization({
    creds: DOC_S3, region: "us-east-1", service: "s3", method: "GET", host: "examplebucket.s3.amazonaws.com",
    path: "/test.txt", headers: { Range: "bytes=0-9" }, payloadHash: sha256hex(""), s3: true,
    date: new Date("2013-05-24T00:00:00Z") }));
emit("doc_s3_presign_url", await presign({
    creds: DOC_S3, region: "us-east-1", service: "s3", method: "GET", host: "examplebucket.s3.amazonaws.com",
    path: "/test.txt", expiresIn: 86400, s3: true, date: new Date("2013-05-24T00:00:00Z") }));

// S3 requests as the object store sends them.
emit("s3_list_auth", await authorization({
    creds: KEYS, region: "eu-west-1", service: "s3", method: "GET", host: "127.0.0.1:4568", path: "/sluice-lake",
    query: { "list-type": "2", prefix: "bronze/public.orders/", "continuation-token": "1/abc+def=", "max-keys": "1000" },
    payloadHash: sha256hex(""), s3: true }));
emit("s3_put_object_auth", await authorization({
    creds: TEMP, region: "eu-west-1", service: "s3", method: "PUT", host: "sluice-lake.s3.eu-west-1.amazonaws.com",
    path: "/bronze/public.orders/dt=2024-05-01/part 0001 \u00fc \u65e5\u672c (copy)+~.json",
    headers: { "Content-Type": "application/x-ndjson", "X-Amz-Meta-Note": "  two   spaces\tand tab  " },
    payloadHash: sha256hex('{"id":1}\n'), s3: true }));
emit("s3_multipart_auth", await authorization({
    creds: TEMP, region: "us-east-1", service: "s3", method: "PUT", host: "s3.us-east-1.amazonaws.com",
    path: "/sluice-lake/silver/orders/data/00000-1.parquet",
    query: { partNumber: "3", uploadId: "VXBsb2FkIElE.-_~ x" }, payloadHash: UNSIGNED, s3: true }));
emit("s3_query_edge_auth", await authorization({
    creds: KEYS, region: "us-west-2", service: "s3", method: "GET", host: "s3.us-west-2.amazonaws.com",
    path: "/sluice-lake", query: { uploads: "", tag: ["b", "a"], empty: "", prefix: "a b/\u00fc" },
    payloadHash: sha256hex(""), s3: true }));
emit("s3_presign_get_url", await presign({
    creds: KEYS, region: "eu-west-1", service: "s3", method: "GET", host: "sluice-lake.s3.eu-west-1.amazonaws.com",
    path: "/gold/daily revenue/\u00fc.parquet", query: { "response-content-type": "application/json" },
    expiresIn: 3600, s3: true }));
emit("s3_presign_put_token_url", await presign({
    creds: TEMP, region: "us-east-1", service: "s3", method: "PUT", host: "127.0.0.1:4568",
    path: "/sluice-lake/bronze/a b+c.json", expiresIn: 600, s3: true }));

// A non-S3 service: the path is normalized and encoded twice.
emit("generic_path_auth", await authorization({
    creds: KEYS, region: "us-east-1", service: "execute-api", method: "GET",
    host: "abc123.execute-api.us-east-1.amazonaws.com", path: "/prod//documents and settings/\u00fc/./x/../y%z",
    query: { q: "a b" } }));

// The MSK IAM token.
const msk = await mskToken(TEMP, "us-east-1");
emit("msk_iam_token_url", msk.url);
emit("msk_iam_token", msk.token);
const mskKeys = await mskToken(KEYS, "eu-west-2");
emit("msk_iam_keys_url", mskKeys.url);
emit("msk_iam_keys_token", mskKeys.token);

console.log(out.join("\n"));
