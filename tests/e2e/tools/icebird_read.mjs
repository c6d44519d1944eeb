// icebird_read: reads an Iceberg table with icebird (an independent reader) and prints
// {"snapshots": n, "rows": [...]} as JSON on stdout.
//   node icebird_read.mjs TABLE_URL [METADATA_FILE_NAME]
// TABLE_URL is a file:// URI: icebird fetches over HTTP, so globalThis.fetch is overridden to
// serve file:// URLs (GET, HEAD, Range), as DESIGN.md describes. Values are normalised for JSON:
// bigint as decimal text, Date as microseconds since the epoch, everything else as read.
// Microsecond timestamps are kept exact: hyparquet's default parser makes a Date (milliseconds),
// so icebird's hyparquet gets a parser that returns the microseconds themselves.
// Optional, for tables on an S3 API server (only when the variables are set; file:// URLs are
// served as above either way):
//   ICEBIRD_S3_HTTP_BASE=http://HOST:PORT  TABLE_URL is then an http:// URL of the table on that
//       server (path style: http://HOST:PORT/BUCKET/KEY...). The metadata names its files with
//       absolute s3://BUCKET/KEY (or s3a://) locations, which icebird turns into
//       https://BUCKET.s3.amazonaws.com/KEY; both forms are fetched from
//       ICEBIRD_S3_HTTP_BASE/BUCKET/KEY with the real fetch (over HTTP, anonymous, the request's
//       method and headers, Range included, kept as they are).
//   ICEBIRD_FETCH_LOG=FILE  every request that goes over the network (not file://) is appended
//       to FILE as a JSON line {method, url (as fetched), range, status}.
import { appendFileSync } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { icebergMetadata, icebergRead } from 'icebird'

const { DEFAULT_PARSERS } = await import(new URL('../node_modules/icebird/node_modules/hyparquet/src/convert.js',
  import.meta.url))
DEFAULT_PARSERS.timestampFromMicroseconds = micros => micros

const realFetch = globalThis.fetch
const s3HttpBase = (process.env.ICEBIRD_S3_HTTP_BASE || '').replace(/\/+$/, '')
const fetchLog = process.env.ICEBIRD_FETCH_LOG
// s3://BUCKET/KEY, s3a://BUCKET/KEY or https://BUCKET.s3.amazonaws.com/KEY -> BASE/BUCKET/KEY.
const s3ToHttp = url => {
  let m = /^s3a?:\/\/([^/]+)(\/.*)$/.exec(url)
  if (!m) m = /^https:\/\/([^/]+)\.s3\.amazonaws\.com(\/.*)$/.exec(url)
  return m ? `${s3HttpBase}/${m[1]}${m[2]}` : url
}
const netFetch = async (input, init) => {
  if (!s3HttpBase && !fetchLog) return realFetch(input, init)
  const orig = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  const url = s3HttpBase ? s3ToHttp(orig) : orig
  const res = await realFetch(url === orig ? input : input instanceof Request ? new Request(url, input) : url, init)
  if (fetchLog) {
    appendFileSync(fetchLog, JSON.stringify({ method: (init.method || 'GET').toUpperCase(), url,
      range: new Headers(init.headers || {}).get('range'), status: res.status }) + '\n')
  }
  return res
}
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input.url
  if (!url.startsWith('file://')) return netFetch(input, init)
  const path = fileURLToPath(url)
  let size
  try {
    size = (await stat(path)).size
  } catch {
    return new Response('not found', { status: 404 })
  }
  const method = (init.method || 'GET').toUpperCase()
  if (method === 'HEAD') {
    return new Response(null, { status: 200, headers: { 'content-length': String(size) } })
  }
  const headers = new Headers(init.headers || {})
  const range = headers.get('range')
  let start = 0, end = size - 1, status = 200
  if (range) {
    const m = /^bytes=(\d+)-(\d*)$/.exec(range)
    if (!m) throw new Error(`unsupported range ${range}`)
    start = Number(m[1])
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1
    status = 206
  }
  const fh = await open(path, 'r')
  try {
    const len = Math.max(0, end - start + 1)
    const b = Buffer.alloc(len)
    await fh.read(b, 0, len, start)
    return new Response(b, { status, headers: { 'content-length': String(len) } })
  } finally {
    await fh.close()
  }
}

const [tableUrl, metadataFileName] = process.argv.slice(2)
if (!tableUrl) {
  console.error('usage: node icebird_read.mjs TABLE_URL [METADATA_FILE_NAME]')
  process.exit(2)
}
const metadata = await icebergMetadata({ tableUrl, metadataFileName })
const rows = await icebergRead({ tableUrl, metadata })
const norm = v => typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.getTime() * 1000 : v
const out = rows.map(r => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)])))
console.log(JSON.stringify({
  snapshots: (metadata.snapshots || []).length,
  rows: out,
}))
