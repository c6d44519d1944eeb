// icebird_read: reads an Iceberg table with icebird (an independent reader) and prints
// {"snapshots": n, "rows": [...]} as JSON on stdout.
//   node icebird_read.mjs TABLE_URL [METADATA_FILE_NAME]
// TABLE_URL is a file:// URI: icebird fetches over HTTP, so globalThis.fetch is overridden to
// serve file:// URLs (GET, HEAD, Range), as DESIGN.md describes. Values are normalised for JSON:
// bigint as decimal text, Date as microseconds since the epoch, everything else as read.
// Microsecond timestamps are kept exact: hyparquet's default parser makes a Date (milliseconds),
// so icebird's hyparquet gets a parser that returns the microseconds themselves.
import { open, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { icebergMetadata, icebergRead } from 'icebird'

const { DEFAULT_PARSERS } = await import(new URL('../node_modules/icebird/node_modules/hyparquet/src/convert.js',
  import.meta.url))
DEFAULT_PARSERS.timestampFromMicroseconds = micros => micros

const realFetch = globalThis.fetch
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === 'string' ? input : input.url
  if (!url.startsWith('file://')) return realFetch(input, init)
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
