// aws_metadata_server: a loopback stand-in for the two AWS credential endpoints, for
// tests/runtime/lake_credentials.sh. Plain node:http, no packages.
//
// EC2 instance metadata, IMDSv2 as documented in the EC2 User Guide ("Use IMDSv2"):
//   PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds: 1..21600 -> a session token
//       (400 without or with a bad TTL, 403 with X-Forwarded-For, 405 for other methods);
//   every other /latest/ request needs X-aws-ec2-metadata-token: <an unexpired token> (401
//       otherwise; IMDSv1 is refused, as with HttpTokens=required);
//   GET /latest/meta-data/iam/security-credentials/        -> the role name
//   GET /latest/meta-data/iam/security-credentials/<role>  -> {Code, LastUpdated, Type,
//       AccessKeyId, SecretAccessKey, Token, Expiration}; 404 for another role.
// Container credentials (ECS agent / EKS Pod Identity agent):
//   GET <--container-path>       -> {RoleArn, AccessKeyId, SecretAccessKey, Token, Expiration}
//   GET <--container-full-path>  -> the same, only with "Authorization: <--container-token>"
//                                   (401 without the header, 403 with another value).
//
// Options: --port-file F (written once listening), --log F (one line per request:
//   "METHOD PATH ttl=<value|none> token=<valid|invalid|none> auth=<ok|wrong|none> status=N"),
//   --role NAME, --expires E1,E2,... (Unix seconds: the n-th credential set of an endpoint
//   expires at En, the last one repeating), --fail-after N (credential documents after the N-th of
//   an endpoint are answered 500), --container-path P, --container-full-path P,
//   --container-token T, --v1-only 1 (an IMDSv1-only service: the token API answers 404 and
//   metadata is served without a token).
// Credential sets are numbered per endpoint: ASIAIMDS0001, ASIAIMDS0002, ...; ASIACONT0001, ...
// Their secrets contain "SECRETVALUE" and their session tokens "SESSIONVALUE", so a test can
// check that neither is ever printed.
import { appendFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const opts = { role: 'sluice-test-role', expires: '0', 'fail-after': '-1', 'container-token': '' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
        console.error(`aws_metadata_server: bad argument ${argv[i]}`);
        process.exit(2);
    }
    opts[argv[i].slice(2)] = argv[i + 1];
}
const expires = opts.expires.split(',').map(Number);
const failAfter = Number(opts['fail-after']);
const tokens = new Map();   // session token -> expiry (ms)
const served = { imds: 0, container: 0 };
const rolePath = '/latest/meta-data/iam/security-credentials/';

function iso(unix) {
    return new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// The next credential document of an endpoint, or null when it is set to fail.
function credentials(kind, prefix) {
    const n = ++served[kind];
    if (failAfter >= 0 && n > failAfter)
        return null;
    const e = expires[Math.min(n, expires.length) - 1];
    const id = `${prefix}${String(n).padStart(4, '0')}`;
    const doc = {
        AccessKeyId: id,
        SecretAccessKey: `SECRETVALUE-${kind}-${n}-wJalrXUtnFEMI/K7MDENG+bPxRfiCY`,
        Token: `SESSIONVALUE-${kind}-${n}`,
    };
    if (e)
        doc.Expiration = iso(e);
    return doc;
}

const server = http.createServer((req, res) => {
    const url = req.url;
    const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
    const tok = req.headers['x-aws-ec2-metadata-token'];
    const auth = req.headers['authorization'];
    const tokenState = tok === undefined ? 'none' : (tokens.has(tok) && tokens.get(tok) > Date.now() ? 'valid' : 'invalid');
    let authState = 'none';
    if (auth !== undefined)
        authState = opts['container-token'] && auth === opts['container-token'] ? 'ok' : 'wrong';

    let status = 404, body = 'Not Found\n', type = 'text/plain';
    const json = (code, doc) => {
        status = doc ? code : 500;
        body = doc ? JSON.stringify(doc, null, 2) : '{"code":"InternalError","message":"injected failure"}';
        type = 'application/json';
    };
    if (opts['v1-only'] === '1' && url.startsWith('/latest/')) {
        if (url === rolePath)
            status = 200, body = `${opts.role}\n`;
        else if (url === rolePath + opts.role)
            json(200, credentials('imds', 'ASIAIMDS'));
    } else if (url === '/latest/api/token') {
        const t = Number(ttl);
        if (req.method !== 'PUT')
            status = 405, body = 'Method Not Allowed\n';
        else if (req.headers['x-forwarded-for'] !== undefined)
            status = 403, body = 'Forbidden\n';
        else if (ttl === undefined || !/^[0-9]+$/.test(ttl) || t < 1 || t > 21600)
            status = 400, body = 'Bad Request\n';
        else {
            const token = randomBytes(24).toString('base64');
            tokens.set(token, Date.now() + t * 1000);
            status = 200, body = token;
            res.setHeader('X-aws-ec2-metadata-token-ttl-seconds', String(t));
        }
    } else if (url.startsWith('/latest/')) {
        if (tokenState !== 'valid')
            status = 401, body = 'Unauthorized\n';
        else if (req.method !== 'GET')
            status = 405, body = 'Method Not Allowed\n';
        else if (url === rolePath)
            status = 200, body = `${opts.role}\n`;
        else if (url === rolePath + opts.role) {
            const doc = credentials('imds', 'ASIAIMDS');
            json(200, doc && { Code: 'Success', LastUpdated: iso(Math.floor(Date.now() / 1000)), Type: 'AWS-HMAC', ...doc });
        }
    } else if (opts['container-path'] && url === opts['container-path'] && req.method === 'GET') {
        const doc = credentials('container', 'ASIACONT');
        json(200, doc && { RoleArn: 'arn:aws:iam::123456789012:role/sluice-task', ...doc });
    } else if (opts['container-full-path'] && url === opts['container-full-path'] && req.method === 'GET') {
        if (authState === 'none')
            status = 401, body = 'Unauthorized\n';
        else if (authState === 'wrong')
            status = 403, body = 'Forbidden\n';
        else {
            const doc = credentials('container', 'ASIACONT');
            json(200, doc && { RoleArn: 'arn:aws:iam::123456789012:role/sluice-pod', ...doc });
        }
    }
    if (opts.log)
        appendFileSync(opts.log, `${req.method} ${url} ttl=${ttl ?? 'none'} token=${tokenState} auth=${authState} status=${status}\n`);
    req.resume();
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
});

server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    if (opts['port-file'])
        writeFileSync(opts['port-file'], `${port}\n`);
    else
        console.log(`port=${port}`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
    process.on(sig, () => process.exit(0));
